// Refresh a panel in place: <div id="progress" data-refresh="/url"> gets the URL's HTML every
// few seconds while the page is visible. Without JavaScript the page is simply static.
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh]");
  if (!box || !window.fetch) { return; }
  var every = 5000;
  function tick() {
    if (document.hidden) { return; }
    fetch(box.getAttribute("data-refresh"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) { if (html !== null) { box.innerHTML = html; } })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }
  window.setInterval(tick, every);
})();
