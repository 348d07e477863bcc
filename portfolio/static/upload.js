// Evidence uploads with drag and drop and a progress bar per file. Without JavaScript the
// form posts its files itself; with it, each file is sent ahead on its own request and the
// form carries only signed tokens, so a large file never has to be sent twice.
(function () {
  "use strict";
  const form = document.getElementById("item-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  const input = form.querySelector('input[type="file"]');
  const zone = document.getElementById("drop-zone");
  const list = document.getElementById("upload-list");
  const submit = form.querySelector('[type="submit"]');
  const maxBytes = Number(form.dataset.maxBytes);
  const csrf = form.querySelector('input[name="csrf_token"]').value;
  let pending = 0;

  function row(file) {
    const li = document.createElement("li");
    li.className = "mb-2";
    const name = document.createElement("div");
    name.className = "small";
    name.textContent = file.name;
    const bar = document.createElement("div");
    bar.className = "progress";
    bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", "Uploading " + file.name);
    bar.setAttribute("aria-valuemin", "0");
    bar.setAttribute("aria-valuemax", "100");
    bar.setAttribute("aria-valuenow", "0");
    const fill = document.createElement("div");
    fill.className = "progress-bar";
    fill.style.width = "0%";
    bar.appendChild(fill);
    const message = document.createElement("div");
    message.className = "small";
    li.append(name, bar, message);
    list.appendChild(li);
    return { li, bar, fill, message };
  }

  function fail(ui, text) {
    ui.fill.classList.add("bg-danger");
    ui.fill.style.width = "100%";
    ui.message.className = "small text-danger";
    ui.message.textContent = text;
  }

  function settle() {
    pending -= 1;
    submit.disabled = pending > 0;
  }

  function send(file) {
    const ui = row(file);
    if (file.size > maxBytes) {
      fail(ui, file.name + " is larger than the " + form.dataset.maxMb + " MB limit and was not uploaded.");
      return;
    }
    pending += 1;
    submit.disabled = true;
    const data = new FormData();
    data.append("file", file);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) return;
      const percent = Math.round((100 * event.loaded) / event.total);
      ui.fill.style.width = percent + "%";
      ui.bar.setAttribute("aria-valuenow", String(percent));
    });
    xhr.addEventListener("load", function () {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = {}; }
      if (xhr.status === 201 && body.token) {
        ui.fill.style.width = "100%";
        ui.fill.classList.add("bg-success");
        ui.bar.setAttribute("aria-valuenow", "100");
        ui.message.textContent = "Uploaded. It is added when you save.";
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "uploaded";
        hidden.value = body.token;
        form.appendChild(hidden);
        ui.li.dataset.uploaded = "true";
      } else {
        fail(ui, body.error || "The upload failed (" + xhr.status + "). Please try again.");
      }
      settle();
    });
    xhr.addEventListener("error", function () {
      fail(ui, "The upload was interrupted. Check your connection and try again.");
      settle();
    });
    xhr.send(data);
  }

  function take(files) {
    Array.prototype.forEach.call(files, send);
    input.value = "";  // the files travel ahead; the form must not send them again
  }

  input.addEventListener("change", function () { take(input.files); });
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("border-primary");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("border-primary"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files) take(event.dataTransfer.files);
  });
  form.dataset.uploads = "ready";  // files chosen from now on are sent ahead
})();
