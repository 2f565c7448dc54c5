/* The composer: once the text is edited after its normalised preview, the "speak" button
   waits until the preview is seen again (the server checks this too). */
(function () {
  "use strict";
  var text = document.getElementById("text");
  var speak = document.getElementById("speak");
  var note = document.getElementById("stale-note");
  if (!text || !speak) { return; }
  var seen = text.value;
  text.addEventListener("input", function () {
    var stale = text.value !== seen;
    speak.disabled = stale;
    if (note) { note.hidden = !stale; }
  });
}());
