// Follows an audit bundle being built: polls its status and fills the bar until it is ready.
(function () {
  "use strict";
  const box = document.getElementById("bundle");
  if (!box || box.dataset.state !== "running") return;
  const bar = box.querySelector('[role="progressbar"]');
  const fill = bar.querySelector(".progress-bar");
  const message = box.querySelector("[data-message]");
  const link = box.querySelector("[data-download]");

  function enrolments(n) {
    return n + (n === 1 ? " enrolment" : " enrolments");
  }

  function show(status) {
    const percent = status.total ? Math.round((100 * status.done) / status.total) : 0;
    fill.style.width = percent + "%";
    bar.setAttribute("aria-valuenow", String(status.done));
    bar.setAttribute("aria-valuemax", String(status.total));
    if (status.state === "done") {
      const mb = (status.size / (1024 * 1024)).toFixed(1);
      message.textContent = "Ready: " + enrolments(status.total) + ", " + mb + " MB.";
      link.classList.remove("d-none");
    } else if (status.state === "failed") {
      message.textContent = "The bundle could not be built: " + status.message;
    } else {
      // A retry or a wait for a worker says so; otherwise the count so far.
      message.textContent =
        status.message || status.done + " of " + enrolments(status.total) + " added…";
      window.setTimeout(poll, 1000);
    }
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
