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
// the axis and in the legend, in the viewer's zone.
const shortTime = { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };

function volumeChart(holder) {
  const data = JSON.parse(document.getElementById(holder.dataset.source).textContent);
  const runs = data.at.length;
  const band = (value) => data.at.map(() => value);
  const when = (i, style) => new Date(data.at[i] * 1000).toLocaleString(undefined, style);
  const isRun = (i) => Number.isInteger(i) && i >= 0 && i < runs;
  const series = [
    { label: "run at", value: (u, i) => (i === null || !isRun(i) ? "--" : when(i)) },
    {
      label: "rows written",
      stroke: "#0b57d0",
      fill: "rgba(11, 87, 208, 0.35)",
      paths: uPlot.paths.bars({ size: [0.6, 48] }),
      points: { show: false },
    },
    { label: "usual high", stroke: "#7aa7e8", dash: [4, 4], points: { show: false } },
    { label: "usual low", stroke: "#7aa7e8", dash: [4, 4], points: { show: false } },
    {
      label: "outside the band",
      stroke: "#b42318",
      paths: () => null,
      points: { show: true, size: 9, fill: "#b42318", stroke: "#b42318" },
    },
  ];
  const flagged = data.rows.map((rows, i) => (data.flagged[i] ? rows : null));
  const values = [data.at.map((_, i) => i), data.rows, band(data.high), band(data.low), flagged];
  const options = {
    width: Math.max(240, holder.clientWidth),
    height: 240,
    scales: {
      x: { time: false, range: () => [-0.5, runs - 0.5] },
      y: { range: (u, min, max) => [0, Math.max(max, 1) * 1.1] },
    },
    series: series,
    bands: data.high === null ? [] : [{ series: [2, 3], fill: "rgba(208, 228, 255, 0.7)" }],
    axes: [
      {
        space: 110,
        incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        values: (u, ticks) => ticks.map((i) => (isRun(i) ? when(i, shortTime) : "")),
      },
      { size: 60, values: (u, ticks) => ticks.map((v) => compact.format(v)) }],
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
