// A second click while the first submit is on its way sends nothing more; the server also
// refuses a second submission, so this only saves a confusing message.
document.querySelectorAll("form [data-once]").forEach(function (once) {
  once.form.addEventListener("submit", function (event) {
    if (once.dataset.sent) { event.preventDefault(); return; }
    once.dataset.sent = "1";
  });
});
