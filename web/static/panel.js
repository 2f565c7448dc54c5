/* On a phone the main menu folds behind one button ("Trình đơn: Bản tin") instead of
   taking a third of the screen on every page. Without this file the menu is simply shown. */
(function () {
  "use strict";
  var menu = document.getElementById("main-menu");
  if (!menu) { return; }
  var header = menu.parentNode;
  var current = menu.querySelector("[aria-current='page']");
  var button = document.createElement("button");
  button.type = "button";
  button.className = "menu-toggle";
  button.setAttribute("aria-controls", "main-menu");
  button.setAttribute("aria-expanded", "false");
  var label = menu.getAttribute("data-toggle-label") || "Menu";
  button.textContent = "\u2630 " + label + (current ? ": " + current.textContent.trim() : "");
  header.insertBefore(button, menu);
  header.classList.add("folding");
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", String(open));
    header.classList.toggle("unfolded", open);
  });
})();
