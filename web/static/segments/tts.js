/* The composer: once the text is edited after its normalised preview, the "speak" button
   waits until the preview is seen again (the server checks this too). */
(function () {
  "use strict";
  // "Nghe thử": the first sentences in the chosen voice, played here instead of a new tab.
  var listen = document.getElementById("listen");
  var result = document.getElementById("listen-result");
  if (listen && result && window.fetch && window.FormData) {
    var audio = document.getElementById("listen-audio");
    var error = document.getElementById("listen-error");
    var label = listen.textContent;
    listen.addEventListener("click", function (event) {
      event.preventDefault();
      listen.disabled = true;
      listen.textContent = listen.getAttribute("data-busy") || label;
      fetch(listen.getAttribute("formaction"), {
        method: "POST", body: new FormData(listen.form), credentials: "same-origin",
      }).then(function (response) {
        if (response.ok) { return response.blob().then(function (blob) { return {blob: blob}; }); }
        return response.json().then(function (body) { return {error: body.error}; },
                                    function () { return {error: response.statusText}; });
      }).then(function (answer) {
        result.hidden = false;
        error.hidden = !answer.error;
        audio.hidden = !!answer.error;
        if (answer.error) { error.textContent = answer.error; return; }
        if (audio.src) { URL.revokeObjectURL(audio.src); }
        audio.src = URL.createObjectURL(answer.blob);
        audio.play().catch(function () { /* autoplay refused: the controls are there */ });
      }).finally(function () {
        listen.disabled = false;
        listen.textContent = label;
      });
    });
  }
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
