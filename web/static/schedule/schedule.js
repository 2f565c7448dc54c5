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

  // Search the tree by name or code, without caring for diacritics ("quang trung" finds
  // "Phường Quang Trung"), and say which stations are ticked (outermost only).
  var tools = form.querySelector("[data-tree-tools]");
  var search = document.getElementById("target-search");
  var picked = document.getElementById("target-picked");
  if (!tools || !search || !picked) { return; }
  tools.hidden = false;
  function plain(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d").replace(/Đ/g, "D").toLowerCase().replace(/\s+/g, " ").trim();
  }
  var items = Array.prototype.slice.call(form.querySelectorAll(".tree li"));
  items.forEach(function (li) {
    var label = li.querySelector(":scope > label");
    li.dataset.text = label ? plain(label.textContent) : "";
  });
  function filter() {
    var wanted = plain(search.value);
    var shown = 0;
    // Deepest first, so a parent knows whether a child matched.
    items.slice().reverse().forEach(function (li) {
      var own = !wanted || li.dataset.text.indexOf(wanted) >= 0;
      var child = li.querySelector(":scope > details > ul > li:not([hidden])");
      li.hidden = !(own || child);
      var fold = li.querySelector(":scope > details");
      if (fold && wanted && child) { fold.open = true; }
      if (!li.hidden && own) { shown += 1; }
    });
    return shown;
  }
  function names() {
    var ticked = [];
    boxes.forEach(function (box) {
      if (box.checked && !box.disabled) {
        ticked.push(box.closest("label").textContent.replace(/\s+/g, " ").trim());
      }
    });
    return ticked;
  }
  function say(shown) {
    var ticked = names();
    var text = ticked.length ? picked.dataset.some + " " + ticked.join(", ") : picked.dataset.none;
    picked.textContent = shown === 0 ? picked.dataset.nomatch + " " + text : text;
  }
  search.addEventListener("input", function () { say(filter()); });
  search.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }  // not a submit of the form
  });
  boxes.forEach(function (box) { box.addEventListener("change", function () { say(-1); }); });
  say(-1);
})();
