// "Add a question": another question-and-answer row on a sign-off, as many as the
// conversation had (up to the form's limit). Without JavaScript the form offers three rows.
(function () {
  "use strict";
  document.querySelectorAll("[data-questions]").forEach(function (box) {
    const button = box.querySelector("[data-add-question]");
    const most = parseInt(box.dataset.max, 10);
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      const rows = box.querySelectorAll("[data-question-row]");
      const last = rows[rows.length - 1];
      const copy = last.cloneNode(true);
      const index = rows.length;
      copy.querySelectorAll("textarea, label").forEach(function (element) {
        ["name", "id", "for"].forEach(function (attribute) {
          const value = element.getAttribute(attribute);
          if (value) {
            element.setAttribute(attribute, value.replace(/questions-\d+-/, "questions-" + index + "-"));
          }
        });
        if (element.tagName === "TEXTAREA") element.value = "";
      });
      last.after(copy);
      copy.querySelector("textarea").focus();
      if (index + 1 >= most) button.disabled = true;
    });
  });
})();
