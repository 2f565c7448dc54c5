/* A segment still being processed: ask for its status every two seconds and reload the
   page once it is done (or failed). */
(function () {
  "use strict";
  var box = document.getElementById("processing");
  if (!box || !window.fetch) { return; }
  var url = box.dataset.statusUrl;
  var bar = box.querySelector("progress");
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.status !== "processing" && s.status !== "rendering") { window.location.reload(); return; }
        if (bar && typeof s.progress === "number") { bar.value = s.progress; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
