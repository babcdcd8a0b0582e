// Draws the stats page's charts with uPlot (vendored in lib/uplot) from the page's JSON block. Progressive
// enhancement: the same figures are in the page's table, so nothing is lost without script.
(() => {
  const data = document.getElementById("stats-data");
  if (!data || typeof uPlot === "undefined") return;
  const stats = JSON.parse(data.textContent);
  // Day starts as Unix seconds (UTC midnight of each calendar day: the axis shows dates, not instants).
  const xs = stats.days.map((d) => Date.parse(d + "T00:00:00Z") / 1000);
  const look = {
    sent: { label: "Sent", stroke: "#1d4ed8", fill: "rgba(29,78,216,0.12)" },
    bounced: { label: "Bounced", stroke: "#a4161a" },
    spam: { label: "Spam complaints", stroke: "#7a4a00" },
    opens: { label: "Opens", stroke: "#146c2e" },
    clicks: { label: "Clicks", stroke: "#6b21a8" },
  };
  const charts = [];
  document.querySelectorAll(".plot[data-series]").forEach((el) => {
    const keys = el.dataset.series.split(" ");
    const opts = {
      width: Math.max(300, el.clientWidth),
      height: 220,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      axes: [{}, { values: (u, ticks) => ticks.map((t) => (Number.isInteger(t) ? t : "")) }],
      series: [{ label: "Day", value: (u, ts) => (ts == null ? "" : new Date(ts * 1000).toISOString().slice(0, 10)) },
        ...keys.map((k) => ({ ...look[k], width: 2, points: { show: xs.length < 40 } }))],
    };
    charts.push({ el, plot: new uPlot(opts, [xs, ...keys.map((k) => stats[k])], el) });
  });
  let timer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(timer);
    timer = setTimeout(() => charts.forEach((c) => c.plot.setSize({ width: Math.max(300, c.el.clientWidth), height: 220 })), 150);
  });
})();
