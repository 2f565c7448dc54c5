/* Upload with a real progress bar: the form is sent by XMLHttpRequest so the browser reports
   how many bytes have gone; the server answers JSON (a page to go to, or messages for the
   fields). Several files go one request each (several=1), one after another, each row with
   its own bar and result; a refused file does not stop the others. Without this script the
   form posts normally and works the same (a results page for several files). */
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

  var list = document.getElementById("upload-files");
  var rows = list.querySelector("ol");
  var summary = list.querySelector(".upload-summary");

  function row(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var progress = document.createElement("progress");
    progress.max = 100;
    progress.value = 0;
    progress.setAttribute("aria-label", file.name);
    var result = document.createElement("span");
    result.className = "result";
    result.textContent = form.dataset.waiting;
    li.append(name, progress, result);
    rows.appendChild(li);
    return { li: li, progress: progress, result: result };
  }

  function refuse(r, message) {
    r.li.className = "refused";
    r.progress.hidden = true;
    r.result.textContent = "✗ " + message;
  }

  // One file of several: resolves to "stored", "refused", or "stop" when what all share
  // (owner, campaign, topic) was refused — the messages then go beside those fields.
  function sendOne(file, r) {
    return new Promise(function (resolve) {
      var limit = parseInt(form.dataset.maxBytes, 10);
      if (limit && file.size > limit) { refuse(r, form.dataset.tooLarge); resolve("refused"); return; }
      var data = new FormData(form);
      data.delete("file");
      data.append("file", file, file.name);
      data.set("several", "1");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { r.progress.value = Math.floor((e.loaded / e.total) * 100); }
      });
      xhr.upload.addEventListener("load", function () {
        r.progress.value = 100;
        r.result.textContent = form.dataset.processing;
      });
      xhr.addEventListener("load", function () {
        var answer = null;
        try { answer = JSON.parse(xhr.responseText); } catch (err) { answer = null; }
        if (answer && answer.redirect) {
          r.li.className = "stored";
          r.progress.hidden = true;
          var link = document.createElement("a");
          link.href = answer.redirect;
          link.textContent = answer.title;
          r.result.textContent = "✓ ";
          r.result.appendChild(link);
          resolve("stored");
        } else if (answer && answer.errors && answer.errors.file && Object.keys(answer.errors).length === 1) {
          refuse(r, answer.errors.file.join(" "));
          resolve("refused");
        } else if (answer && answer.errors) {
          refuse(r, form.dataset.failed);
          Object.keys(answer.errors).forEach(function (name) {
            if (name !== "file") { answer.errors[name].forEach(function (m) { showError(name, m); }); }
          });
          (answer.form_errors || []).forEach(function (m) { showError("", m); });
          resolve("stop");
        } else {
          refuse(r, form.dataset.failed);
          resolve("refused");
        }
      });
      xhr.addEventListener("error", function () { refuse(r, form.dataset.failed); resolve("refused"); });
      xhr.send(data);
    });
  }

  function sendSeveral(files) {
    rows.textContent = "";
    summary.textContent = "";
    list.hidden = false;
    button.disabled = true;
    var pending = files.map(function (f) { return { file: f, row: row(f) }; });
    var stored = 0;
    var step = function (i) {
      if (i >= pending.length) {
        summary.textContent = form.dataset.summary
          .replace("{stored}", stored).replace("{total}", pending.length);
        button.disabled = false;
        // What went in is not sent twice: choose the refused files again to retry them.
        form.querySelector('input[type="file"]').value = "";
        return;
      }
      sendOne(pending[i].file, pending[i].row).then(function (outcome) {
        if (outcome === "stored") { stored += 1; }
        if (outcome === "stop") {
          pending.slice(i + 1).forEach(function (p) { p.row.li.remove(); });
          pending = pending.slice(0, i + 1);
        }
        step(i + 1);
      });
    };
    step(0);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearErrors();
    var file = form.querySelector('input[type="file"]');
    var limit = parseInt(form.dataset.maxBytes, 10);
    if (file.files.length > parseInt(form.dataset.maxFiles, 10)) {
      showError("file", form.dataset.tooMany);
      return;
    }
    if (file.files.length > 1) {
      sendSeveral(Array.prototype.slice.call(file.files));
      return;
    }
    list.hidden = true;
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
