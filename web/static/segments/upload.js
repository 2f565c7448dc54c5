/* Upload with a real progress bar: the form is sent by XMLHttpRequest so the browser reports
   how many bytes have gone; the server answers JSON (a page to go to, or messages for the
   fields). Without this script the form posts normally and works the same. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) { return; }
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector("progress");
  var text = document.getElementById("upload-progress-text");
  var button = form.querySelector('button[type="submit"]');

  function clearErrors() {
    form.querySelectorAll(".js-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll(".field.has-error").forEach(function (el) { el.classList.remove("has-error"); });
  }

  function showError(name, message) {
    var input = form.querySelector('[name="' + name + '"]');
    var p = document.createElement("p");
    p.className = "error js-error";
    p.textContent = message;
    if (input && input.closest(".field")) {
      var fieldBox = input.closest(".field");
      fieldBox.classList.add("has-error");
      p.id = input.id + "-error";
      fieldBox.appendChild(p);
    } else {
      p.setAttribute("role", "alert");
      form.insertBefore(p, form.firstChild.nextSibling);
    }
  }

  // The file was refused (or the connection lost): the bar and its "processing…" go, so
  // nothing beside the red message still says the upload is on its way.
  function done() {
    button.disabled = false;
    box.hidden = true;
    bar.value = 0;
    text.textContent = "";
  }

  function setProgress(percent) {
    bar.value = percent;
    text.textContent = percent + " %";
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var file = form.querySelector('input[type="file"]');
    var limit = parseInt(form.dataset.maxBytes, 10);
    if (file.files.length && limit && file.files[0].size > limit) {
      showError("file", form.dataset.tooLarge);
      return;
    }
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { setProgress(Math.floor((e.loaded / e.total) * 100)); }
    });
    xhr.upload.addEventListener("load", function () {
      setProgress(100);
      text.textContent = "100 % — " + form.dataset.processing;
    });
    xhr.addEventListener("load", function () {
      var answer = null;
      try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
      if (answer && answer.redirect) { window.location.assign(answer.redirect); return; }
      done();
      if (answer && answer.errors) {
        Object.keys(answer.errors).forEach(function (name) {
          answer.errors[name].forEach(function (m) { showError(name, m); });
        });
        (answer.form_errors || []).forEach(function (m) { showError("", m); });
      } else {
        showError("", form.dataset.failed);
      }
    });
    xhr.addEventListener("error", function () {
      done();
      showError("", form.dataset.failed);
    });
    setProgress(0);
    box.hidden = false;
    button.disabled = true;
    xhr.send(new FormData(form));
  });
}());
