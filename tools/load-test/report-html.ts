import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type Cause, causeLabels } from "./outcome.ts";
import type { LoadTestResult } from "./result.ts";
import { formatSummary } from "./summary.ts";

/**
 * A single self-contained HTML page: Chart.js's UMD build and the data are inlined, and a
 * Content-Security-Policy forbids any network access, so the report opens the same on an
 * offline laptop, as a CI artifact or attached to an issue.
 */
export function renderHtmlReport(result: LoadTestResult): string {
  const chartJs = loadChartJs();
  // `<` escaped so no string in the data can close the script element.
  const data = JSON.stringify(result).replace(/</g, "\\u003c");
  const title = `Load test ${result.options.mode} ${result.startedAt}`;
  const causes = Object.entries(result.totals.byCause)
    .filter(([cause]) => cause !== "ok")
    .map(([cause, n]) => `<tr><td>${escapeHtml(causeLabels[cause as Cause] ?? cause)}</td><td>${n}</td></tr>`)
    .join("");
  return `${htmlHead(
    title,
    `
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; margin-top: 16px; }
  .card { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .chart { position: relative; height: 260px; }
  table { border-collapse: collapse; } td { padding: 2px 12px 2px 0; }`,
  )}
<body>
<h1>${escapeHtml(title)}</h1>
<p><span class="verdict ${result.verdict.passed ? "pass" : "fail"}">${result.verdict.passed ? "PASS" : "FAIL"}</span>
 ${result.throughput.succeededPerS.toFixed(1)} req/s succeeded · p50 ${result.latencyMs.p50Ms.toFixed(1)} ms · p99 ${result.latencyMs.p99Ms.toFixed(1)} ms · error rate ${(result.totals.errorRate * 100).toFixed(2)}%</p>
<div class="grid">
  <div class="card"><h2>Latency over time</h2><div class="chart"><canvas id="latency-over-time"></canvas></div></div>
  <div class="card"><h2>Latency histogram</h2><div class="chart"><canvas id="latency-histogram"></canvas></div></div>
  <div class="card"><h2>Throughput over time</h2><div class="chart"><canvas id="throughput-over-time"></canvas></div></div>
  <div class="card"><h2>Errors over time</h2><div class="chart"><canvas id="errors-over-time"></canvas></div></div>
  <div class="card"><h2>Latency by percentile</h2><div class="chart"><canvas id="latency-percentiles"></canvas></div></div>
  <div class="card"><h2>Summary</h2><pre>${escapeHtml(formatSummary(result))}</pre>
    ${causes ? `<h2 style="margin-top:12px">Failures by cause</h2><table>${causes}</table>` : ""}</div>
</div>
<script>${chartJs}</script>
<script type="application/json" id="load-test-data">${data}</script>
<script>${clientScript}</script>
</body>
</html>
`;
}

export function writeHtmlReport(path: string, result: LoadTestResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, renderHtmlReport(result));
}

/**
 * The start of a report page up to its </head>: the CSP that forbids any network access, and the
 * styles every report shares; `style` adds the page's own rules.
 */
export function htmlHead(title: string, style: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2330; background: #f6f7f9; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
  .pass { background: #2f8a4c; } .fail { background: #c0392b; }
  .card h2 { font-size: 15px; margin: 0 0 8px; }
  pre { white-space: pre-wrap; font-size: 12px; margin: 0; }${style}
</style>
</head>`;
}

/** Chart.js's UMD build as inline script text (also used by the chaos report). */
export function loadChartJs(): string {
  // The package exports only its ESM/CJS entries; the UMD bundle (one global, no imports) sits beside them.
  const entry = Bun.resolveSync("chart.js", import.meta.dir);
  const source = readFileSync(join(dirname(entry), "chart.umd.min.js"), "utf8");
  // No source map lookup from a file:// page, and nothing that could end the script element early.
  return source.replace(/\/\/# sourceMappingURL=.*$/m, "").replace(/<\/script/gi, "<\\/script");
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Runs in the page: draws the charts from the embedded data. Animation off so the page is final when loaded. */
const clientScript = `
(() => {
  const r = JSON.parse(document.getElementById("load-test-data").textContent);
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  const seconds = r.timeline.map((p) => p.atS.toFixed(p.atS % 1 ? 2 : 0) + " s");
  const line = (label, data, color, extra) => ({ label, data, borderColor: color, backgroundColor: color, pointRadius: 0, borderWidth: 2, ...extra });
  new Chart(document.getElementById("latency-over-time"), {
    type: "line",
    data: { labels: seconds, datasets: [
      line("p50 ms", r.timeline.map((p) => p.p50Ms), "#2c7be5"),
      line("p99 ms", r.timeline.map((p) => p.p99Ms), "#e67e22"),
      line("max ms", r.timeline.map((p) => p.maxMs), "#c0392b", { borderDash: [4, 3] }),
    ] },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "ms" } } } },
  });
  const buckets = r.histogram.filter((b) => b.count > 0);
  const range = (b) => b.toMs === null ? "≥ " + b.fromMs + " ms" : b.fromMs + "–" + b.toMs + " ms";
  new Chart(document.getElementById("latency-histogram"), {
    type: "bar",
    data: { labels: buckets.map(range), datasets: [{ label: "requests", data: buckets.map((b) => b.count), backgroundColor: "#2c7be5" }] },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "requests" } } } },
  });
  new Chart(document.getElementById("throughput-over-time"), {
    type: "line",
    data: { labels: seconds, datasets: [
      line("succeeded / s", r.timeline.map((p) => p.succeededPerS), "#2f8a4c", { fill: true, backgroundColor: "rgba(47,138,76,.15)" }),
      line("sent / s", r.timeline.map((p) => p.sentPerS), "#7f8c8d", { borderDash: [4, 3] }),
    ] },
    options: { scales: { y: { beginAtZero: true, title: { display: true, text: "requests / s" } } } },
  });
  new Chart(document.getElementById("errors-over-time"), {
    type: "bar",
    data: { labels: seconds, datasets: [{ label: "failed / s", data: r.timeline.map((p) => p.failedPerS), backgroundColor: "#c0392b" }] },
    options: { scales: { y: { beginAtZero: true, suggestedMax: 1, title: { display: true, text: "requests / s" } } } },
  });
  new Chart(document.getElementById("latency-percentiles"), {
    type: "line",
    data: { labels: r.percentiles.map((p) => "p" + p.percentile), datasets: [line("latency ms", r.percentiles.map((p) => p.ms), "#8e44ad", { pointRadius: 2 })] },
    options: { scales: { y: { type: "logarithmic", title: { display: true, text: "ms (log)" } } } },
  });
  document.body.dataset.chartsReady = "true";
})();
`;
