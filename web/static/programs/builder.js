/* The programme builder on the page: move and remove entries without a round trip (↑ ↓ ✕
   or drag and drop), and keep the total duration summed as the list changes. The hidden
   "item" inputs travel with their rows, so the next post sends the order shown. */
(function () {
  "use strict";
  var list = document.getElementById("items");
  var total = document.getElementById("total");
  if (!list || !total) { return; }

  function mmss(ms) {
    var s = Math.round(ms / 1000);
    var h = Math.floor(s / 3600);
    var m = Math.floor((s % 3600) / 60);
    var sec = ("0" + (s % 60)).slice(-2);
    return h ? h + ":" + ("0" + m).slice(-2) + ":" + sec : m + ":" + sec;
  }

  function refresh() {
    var sum = 0;
    Array.prototype.forEach.call(list.children, function (li, index) {
      sum += parseInt(li.dataset.ms, 10) || 0;
      li.querySelectorAll("button[data-move]").forEach(function (b) {
        b.value = b.dataset.move + "-" + index;
      });
    });
    total.dataset.ms = String(sum);
    total.textContent = mmss(sum);
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) { return; }
    event.preventDefault();
    var li = button.closest("li");
    var move = button.dataset.move;
    if (move === "up" && li.previousElementSibling) {
      list.insertBefore(li, li.previousElementSibling);
    } else if (move === "down" && li.nextElementSibling) {
      list.insertBefore(li.nextElementSibling, li);
    } else if (move === "remove") {
      li.remove();
    }
    refresh();
    var again = li.isConnected && li.querySelector('button[data-move="' + move + '"]');
    if (again) { again.focus(); }
  });

  var dragged = null;
  list.addEventListener("dragstart", function (event) {
    dragged = event.target.closest("li");
    if (dragged) { dragged.classList.add("dragging"); event.dataTransfer.effectAllowed = "move"; }
  });
  list.addEventListener("dragover", function (event) {
    var over = event.target.closest("li");
    if (!dragged || !over || over === dragged) { return; }
    event.preventDefault();
    var box = over.getBoundingClientRect();
    var after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextElementSibling : over);
  });
  list.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("dragging"); }
    dragged = null;
    refresh();
  });
  refresh();
}());
