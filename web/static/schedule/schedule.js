/* The broadcast form, a little friendlier: show only the fields of the chosen kind and
   recurrence, and let a ticked station cover everything below it in the target tree.
   Without this file the form still works: every field is shown and every box can be ticked. */
(function () {
  "use strict";
  var form = document.querySelector(".broadcast-form");
  if (!form) { return; }

  function chosen(name) {
    var input = form.querySelector("input[name='" + name + "']:checked");
    return input ? input.value : "";
  }

  function showFor(name) {
    var value = chosen(name);
    form.querySelectorAll("[data-when-" + name + "]").forEach(function (box) {
      var wanted = box.getAttribute("data-when-" + name).split(" ");
      box.hidden = wanted.indexOf(value) < 0;
    });
  }

  ["kind", "recurrence"].forEach(function (name) {
    showFor(name);
    form.querySelectorAll("input[name='" + name + "']").forEach(function (input) {
      input.addEventListener("change", function () { showFor(name); });
    });
  });

  // A ticked station already covers its subtree: tick and lock the boxes below it.
  function below(box) {
    var item = box.closest("li");
    return item ? item.querySelectorAll(":scope > details input[name='targets']") : [];
  }
  function lockBelow(box) {
    below(box).forEach(function (child) {
      if (box.checked) {
        child.dataset.was = child.checked ? "1" : "";
        child.checked = true;
        child.disabled = true;
      } else if (child.disabled) {
        child.disabled = false;
        child.checked = child.dataset.was === "1";
      }
    });
  }
  var boxes = form.querySelectorAll("input[name='targets']");
  boxes.forEach(function (box) {
    box.addEventListener("change", function () { lockBelow(box); });
  });
  boxes.forEach(function (box) { if (box.checked && !box.disabled) { lockBelow(box); } });
})();
