// Draws each figure's table as a chart (Chart.js, served from our own static files). The
// table stays on the page: it is the figure's accessible form and what its CSV holds.
(function () {
  "use strict";
  if (typeof Chart === "undefined") return;
  // Dark enough to stand 3:1 against white (WCAG 1.4.11), and told apart without colour by
  // the legend's order and the table beside each chart.
  var PALETTE = ["#1f5f99", "#b54708", "#1b7f4b", "#7a3e9d", "#8a6100", "#a0245e",
                 "#00677f", "#4d4d4d", "#3f51b5", "#6d4c41", "#2e7d32", "#ad1457"];

  function number(text) {
    var value = parseFloat(String(text).replace(/[^0-9.\-]/g, ""));
    return isNaN(value) ? null : value;
  }

  function draw(figure) {
    var table = figure.querySelector("table[data-chart]");
    var canvas = figure.querySelector("canvas");
    if (!table || !canvas) return;
    var kind = table.getAttribute("data-chart");
    var drawn = parseInt(table.getAttribute("data-drawn"), 10);
    var heads = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) {
      return c.textContent.trim();
    });
    var rows = Array.prototype.map.call(table.tBodies[0].rows, function (r) {
      return Array.prototype.map.call(r.cells, function (c) { return c.textContent.trim(); });
    });
    if (!rows.length) return;
    var columns = isNaN(drawn) ? heads.length - 1 : drawn;
    var datasets = [];
    for (var i = 1; i <= columns; i++) {
      var colour = PALETTE[(i - 1) % PALETTE.length];
      datasets.push({
        label: heads[i],
        data: rows.map(function (r) { return number(r[i]); }),
        backgroundColor: colour,
        borderColor: colour,
        borderWidth: kind === "lines" ? 2 : 0,
        pointRadius: kind === "lines" ? 3 : 0
      });
    }
    var horizontal = kind !== "lines";
    // Counts are whole numbers: no "0.5 criteria" on the value axis.
    var whole = datasets.every(function (d) {
      return d.data.every(function (v) { return v === null || Math.round(v) === v; });
    });
    var values = { stacked: kind === "stacked", beginAtZero: true, ticks: whole ? { precision: 0 } : {} };
    var labels = { stacked: kind === "stacked", beginAtZero: true };
    var wrap = canvas.parentNode;
    wrap.style.height = (horizontal ? Math.max(140, 36 * rows.length + 90) : 260) + "px";
    new Chart(canvas, {
      type: kind === "lines" ? "line" : "bar",
      data: { labels: rows.map(function (r) { return r[0]; }), datasets: datasets },
      options: {
        indexAxis: horizontal ? "y" : "x",
        maintainAspectRatio: false,
        responsive: true,
        animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: horizontal ? { x: values, y: labels } : { x: labels, y: values }
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-figure]"), draw);
})();
