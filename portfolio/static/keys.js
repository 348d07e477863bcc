// Single keys on the assessor's pages, for working through a submission without a mouse.
// Each element that answers a key says so with data-key and aria-keyshortcuts; the page lists
// them. Keys are ignored while typing in a text field, and with Ctrl, Alt or Meta held.
(function () {
  "use strict";
  const typing = "textarea, select, input:not([type=checkbox]):not([type=radio]):not([type=submit])";
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.repeat) return;
    if (event.target instanceof Element && event.target.closest(typing)) return;
    const element = document.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
    if (!element) return;
    event.preventDefault();
    element.focus();
    element.click();
  });
})();
