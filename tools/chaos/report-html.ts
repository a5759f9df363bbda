import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { escapeHtml, htmlHead, loadChartJs } from "../load-test/report-html.ts";
import { formatReport } from "./report.ts";
import type { ChaosReport } from "./run.ts";

/**
 * A self-contained page (Chart.js inlined, as the load tester's report, and the same CSP: no
 * network): the timeline of throughput, refusals and errors with every fault drawn as a band.
 */
export function renderChaosHtml(report: ChaosReport): string {
  const data = JSON.stringify({ timeline: report.timeline, faults: report.faults }).replace(/</g, "\\u003c");
  const passed = report.check.verdict.passed;
  const title = `Chaos ${report.profile} seed ${report.seed} ${report.startedAt}`;
  return `${htmlHead(
    title,
    `
  .card { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); margin-top: 16px; }
  .chart { position: relative; height: 340px; }`,
  )}
<body>
<h1>${escapeHtml(title)}</h1>
<p><span class="verdict ${passed ? "pass" : "fail"}">${passed ? "PASS" : "FAIL"}</span> replay with <code>${escapeHtml(report.command)}</code></p>
<div class="card"><h2>Timeline: answers per second, faults as bands</h2><div class="chart"><canvas id="timeline"></canvas></div></div>
<div class="card"><h2>Report</h2><pre>${escapeHtml(formatReport(report))}</pre></div>
<script>${loadChartJs()}</script>
<script type="application/json" id="chaos-data">${data}</script>
<script>${clientScript}</script>
</body>
</html>
`;
}

export function writeChaosHtml(path: string, report: ChaosReport): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderChaosHtml(report));
}

/** Runs in the page. The fault bands are a small inline plugin: no annotation plugin to ship. */
const clientScript = `
(() => {
  const r = JSON.parse(document.getElementById("chaos-data").textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const colors = ["rgba(192,57,43,.12)", "rgba(142,68,173,.12)", "rgba(41,128,185,.12)", "rgba(230,126,34,.14)"];
  const bands = {
    id: "faultBands",
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      ctx.save();
      r.faults.forEach((f, i) => {
        const from = scales.x.getPixelForValue(f.startMs / 1000);
        const to = Math.max(from + 3, scales.x.getPixelForValue(f.endMs / 1000));
        ctx.fillStyle = colors[i % colors.length];
        ctx.fillRect(from, chartArea.top, to - from, chartArea.bottom - chartArea.top);
        ctx.fillStyle = "#555";
        ctx.font = "11px system-ui";
        ctx.save();
        ctx.translate(from + 3, chartArea.top + 4);
        ctx.rotate(Math.PI / 2);
        ctx.fillText((f.seq + 1) + " " + f.kind, 0, 0);
        ctx.restore();
      });
      ctx.restore();
    },
  };
  const series = (label, key, color, extra) => ({ label, data: r.timeline.map((p) => ({ x: p.atS, y: p[key] })), borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, ...extra });
  new Chart(document.getElementById("timeline"), {
    type: "line",
    data: { datasets: [
      series("succeeded / s", "succeeded", "#2f8a4c"),
      series("sent / s", "sent", "#7f8c8d", { borderDash: [4, 3] }),
      series("refused 503 / s", "refused", "#e67e22"),
      series("failed / s (502, 504, backend 500, connection)", "failed", "#c0392b"),
    ] },
    options: { parsing: true, scales: { x: { type: "linear", title: { display: true, text: "s" } }, y: { beginAtZero: true, title: { display: true, text: "requests / s" } } } },
    plugins: [bands],
  });
  document.body.dataset.chartsReady = "true";
})();
`;
