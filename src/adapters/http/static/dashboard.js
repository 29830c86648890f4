// The dashboard's few lines of script; every page reads without them.
"use strict";

// Instants are written in UTC; shown in the viewer's zone, UTC on hover.
for (const t of document.querySelectorAll("time[datetime]")) {
  const at = new Date(t.getAttribute("datetime"));
  if (!isNaN(at)) {
    t.title = t.getAttribute("datetime");
    t.textContent = at.toLocaleString();
  }
}

// Rows written per run (uPlot, vendored in this folder): bars, the usual band shaded
// between its low and high, the runs outside it marked in red. The data sits in the page as
// JSON beside the chart; the same figures are in the table under it.
const compact = new Intl.NumberFormat(undefined, { notation: "compact" });

// One bar a run, evenly spaced in run order (runs come at any hours); each run's time on
// the axis (to the second when the runs are all within an hour) and in the legend, in the
// viewer's zone.
const dayAndMinute = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
const toTheSecond = { hour: "2-digit", minute: "2-digit", second: "2-digit" };

// The usual band, shaded across the whole plot under the bars.
function shadeBand(u, data) {
  if (data.high === null) return;
  const top = Math.max(u.bbox.top, u.valToPos(data.high, "y", true));
  const bottom = Math.min(u.bbox.top + u.bbox.height, u.valToPos(data.low, "y", true));
  u.ctx.save();
  u.ctx.fillStyle = "rgba(208, 228, 255, 0.7)";
  u.ctx.fillRect(u.bbox.left, top, u.bbox.width, Math.max(1, bottom - top));
  u.ctx.restore();
}

function volumeChart(holder) {
  const data = JSON.parse(document.getElementById(holder.dataset.source).textContent);
  const runs = data.at.length;
  const when = (i, style) => new Date(data.at[i] * 1000).toLocaleString(undefined, style);
  const isRun = (i) => Number.isInteger(i) && i >= 0 && i < runs;
  const axisTime = data.at[runs - 1] - data.at[0] < 3600 ? toTheSecond : dayAndMinute;
  const series = [
    { label: "run at", value: (u, i) => (i === null || !isRun(i) ? "--" : when(i)) },
    {
      label: "rows written",
      stroke: "#0b57d0",
      fill: "rgba(11, 87, 208, 0.35)",
      paths: uPlot.paths.bars({ size: [0.6, 48] }),
      points: { show: false },
    },
    {
      label: "outside the band",
      stroke: "#b42318",
      paths: () => null,
      points: { show: true, size: 9, fill: "#b42318", stroke: "#b42318" },
    },
  ];
  const flagged = data.rows.map((rows, i) => (data.flagged[i] ? rows : null));
  const values = [data.at.map((_, i) => i), data.rows, flagged];
  const options = {
    width: Math.max(240, holder.clientWidth),
    height: 240,
    scales: {
      x: { time: false, range: () => [-0.5, runs - 0.5] },
      y: { range: (u, min, max) => [0, Math.max(max, data.high ?? 0, 1) * 1.1] },
    },
    series: series,
    hooks: { drawClear: [(u) => shadeBand(u, data)] },
    axes: [
      {
        space: 110,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        values: (u, ticks) => ticks.map((i) => (isRun(i) ? when(i, axisTime) : "")),
      },
      { size: 60, values: (u, ticks) => ticks.map((v) => compact.format(v)) },
    ],
    legend: { live: true },
  };
  const chart = new uPlot(options, values, holder);
  holder.dataset.drawn = String(data.at.length);
  new ResizeObserver(() => chart.setSize({ width: Math.max(240, holder.clientWidth), height: 240 }))
    .observe(holder);
}

for (const holder of document.querySelectorAll("[data-chart=volume]")) {
  if (typeof uPlot === "function") volumeChart(holder);
}
