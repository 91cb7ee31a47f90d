// Cartwheel back office: the charts (uPlot) and the segment builder's rows. Everything else
// is server-rendered HTML with HTMX; the pages work without this file, less the charts.
(function () {
  "use strict";

  var COLORS = ["#2457c5", "#d0632a", "#1f7a3e", "#8a3ab9", "#b3261e", "#0f8ca0", "#6b6b6b"];

  function drawChart() {
    var holder = document.getElementById("chart");
    var data = document.getElementById("chart-data");
    if (!holder || !data || typeof uPlot === "undefined") return;
    var spec = JSON.parse(data.textContent);
    var kind = data.getAttribute("data-kind");
    var xs, series = [{}], columns = [];
    if (kind === "rate") {
      xs = spec.x;
      Object.keys(spec.series).forEach(function (wire, i) {
        series.push({ label: wire, stroke: COLORS[i % COLORS.length], width: 2,
          points: { show: false },
          value: function (u, v) { return v == null ? "—" : v.toFixed(1) + "/min"; } });
        columns.push(spec.series[wire]);
      });
    } else {
      xs = spec.x.map(function (day) { return Date.parse(day + "T00:00:00Z") / 1000; });
      series.push({ label: "size", stroke: COLORS[0], width: 2 });
      series.push({ label: "entered", stroke: COLORS[2], width: 1 });
      series.push({ label: "left", stroke: COLORS[4], width: 1 });
      columns = [spec.size, spec.entered, spec.exited];
    }
    function width() { return Math.max(280, holder.clientWidth); }
    var plot = new uPlot({
      width: width(),
      height: 260,
      series: series,
      scales: { x: { time: true } },
      axes: [{}, { size: 60 }],
      cursor: { drag: { x: false, y: false } }
    }, [xs].concat(columns), holder);
    window.addEventListener("resize", function () { plot.setSize({ width: width(), height: 260 }); });
  }

  function kindChanged(event) {
    var select = event.target;
    if (!select.classList || !select.classList.contains("kind")) return;
    var row = select.closest("fieldset.cond");
    if (row) row.setAttribute("data-kind", select.value);
  }

  function removeRow(event) {
    var button = event.target;
    if (!button.classList || !button.classList.contains("remove")) return;
    var rows = document.querySelectorAll("#rows fieldset.cond");
    var row = button.closest("fieldset.cond");
    if (!row || rows.length < 2) return;
    row.remove();
    var body = document.getElementById("builder-body");
    if (body && window.htmx) window.htmx.trigger(body, "change");
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawChart();
    document.addEventListener("change", kindChanged);
    document.addEventListener("click", removeRow);
  });
})();
