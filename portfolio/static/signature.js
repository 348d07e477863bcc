// A signature pad (signature_pad, vendored): drawn with a finger, a pen or the mouse. What is
// drawn goes in the form as a PNG (a data: address) when the form is sent, and a drawing sent
// back with a refused form is shown again, so nothing has to be signed twice.
(function () {
  "use strict";
  var MAX_WIDTH = 2400, MAX_HEIGHT = 1200; // what the server takes (files/signatures.py)
  document.querySelectorAll("canvas[data-signature-for]").forEach(function (canvas) {
    var input = document.getElementById(canvas.dataset.signatureFor);
    var form = canvas.closest("form");
    var pad = new SignaturePad(canvas, { penColor: "#000000", minWidth: 1, maxWidth: 3 });

    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      ratio = Math.min(ratio, MAX_WIDTH / canvas.offsetWidth, MAX_HEIGHT / canvas.offsetHeight);
      var drawn = pad.toData();
      canvas.width = Math.floor(canvas.offsetWidth * ratio);
      canvas.height = Math.floor(canvas.offsetHeight * ratio);
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      pad.fromData(drawn);
    }
    window.addEventListener("resize", fit);
    fit();
    if (input.value.indexOf("data:image/png;base64,") === 0) {
      pad.fromDataURL(input.value, { width: canvas.offsetWidth, height: canvas.offsetHeight });
    }
    pad.addEventListener("beginStroke", function () { input.value = ""; });
    form.querySelector("[data-signature-clear]").addEventListener("click", function () {
      pad.clear();
      input.value = "";
    });
    form.addEventListener("submit", function () {
      if (!pad.isEmpty()) { input.value = pad.toDataURL("image/png"); }
    });
  });
})();
