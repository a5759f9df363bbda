import { type Cause, causeLabels } from "./outcome.ts";
import type { LoadTestResult } from "./result.ts";

const ms = (value: number) =>
  value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
const sorted = (record: Record<string, number>) => Object.entries(record).sort((a, b) => b[1] - a[1]);

function describeLoad(result: LoadTestResult): string {
  const o = result.options;
  const how =
    o.mode === "sequential"
      ? "sequential (1 connection)"
      : o.mode === "concurrent"
        ? `concurrent (${o.concurrency} connections, closed loop)`
        : `rate ${o.rate} req/s (open loop, ≤ ${o.concurrency} in flight)`;
  const bound = [
    o.count !== null ? `${o.count} requests` : null,
    o.durationS !== null ? `${o.durationS} s` : null,
  ]
    .filter(Boolean)
    .join(" or ");
  const extras = [
    o.warmupS > 0 ? `${o.warmupS} s warm-up` : null,
    o.async ? "async + polling" : null,
    o.processingMs !== null ? `simulate ${o.processingMs} ms` : null,
    `timeout ${o.timeoutS} s`,
  ].filter(Boolean);
  return `${how}, ${bound}, ${extras.join(", ")}`;
}

/** The human summary printed at the end of a run: plain text, aligned, no colours (it is also pasted into issues). */
export function formatSummary(result: LoadTestResult): string {
  const t = result.totals;
  const l = result.latencyMs;
  const lines = [
    `Load test of ${result.options.url}/api/requests`,
    `  load         ${describeLoad(result)}`,
    `  sent         ${t.sent}${t.warmupRequests > 0 ? ` (+${t.warmupRequests} during warm-up, not counted)` : ""}`,
    `  succeeded    ${t.succeeded} (${percent(t.completed === 0 ? 0 : t.succeeded / t.completed)})`,
    `  failed       ${t.failed} (${percent(t.completed === 0 ? 0 : t.failed / t.completed)})`,
  ];
  if (t.failed > 0) {
    const statuses = sorted(t.byStatus).filter(([status]) => status !== "200");
    lines.push(`    by status  ${statuses.map(([status, n]) => `${status} × ${n}`).join(", ")}`);
    const causes = sorted(t.byCause as Record<string, number>).filter(([cause]) => cause !== "ok");
    for (const [cause, n] of causes)
      lines.push(`    ${String(n).padStart(8)}  ${causeLabels[cause as Cause]}`);
  }
  lines.push(
    `  throughput   ${result.throughput.succeededPerS.toFixed(1)} req/s succeeded, ${result.throughput.completedPerS.toFixed(1)} req/s answered (over ${result.throughput.windowS.toFixed(2)} s)`,
    `  latency ms   min ${ms(l.minMs)}  p50 ${ms(l.p50Ms)}  p90 ${ms(l.p90Ms)}  p99 ${ms(l.p99Ms)}  p99.9 ${ms(l.p999Ms)}  max ${ms(l.maxMs)}  (mean ${ms(l.meanMs)})`,
    `  in flight    peak ${result.concurrency.peakInFlight}`,
  );
  const lag = result.scheduleLag;
  if (lag) {
    // Latency already includes this wait (no coordinated omission); saying where it came from
    // keeps a saturated client or a too-small in-flight cap from being blamed on the server.
    const capFull = result.concurrency.peakInFlight >= result.options.concurrency;
    const note =
      lag.p99Ms <= 10
        ? ""
        : capFull
          ? ` (the in-flight cap --concurrency ${result.options.concurrency} was full)`
          : ` (this client was too busy to send ${result.options.rate} req/s on time)`;
    lines.push(`  send lag     p99 ${ms(lag.p99Ms)} ms, max ${ms(lag.maxMs)} ms after the due time${note}`);
  }
  const s = result.server;
  if (s.meanQueuedMs !== null && s.meanProcessingMs !== null) {
    lines.push(
      `  server says  queued ${ms(s.meanQueuedMs)} ms + processing ${ms(s.meanProcessingMs)} ms on average`,
    );
  }
  const pods = sorted(s.pods);
  if (pods.length > 0) lines.push(`  served by    ${pods.map(([pod, n]) => `${pod} ${n}`).join(", ")}`);
  if (s.fleet) {
    const capacity =
      s.theoreticalRps !== null
        ? `; theoretical ${s.theoreticalRps.toFixed(1)} req/s (${s.capacityBasis === "server" ? "server's processing time" : "terminals ÷ --processing-ms"}), efficiency ${percent(s.efficiency ?? 0)}`
        : "; theoretical capacity unknown (server reports no processing time; pass --processing-ms)";
    lines.push(`  fleet        ${s.fleet.pods} pods, ${s.fleet.terminals} terminals${capacity}`);
  } else {
    lines.push("  fleet        not reported by the server (GET /api/fleet)");
  }
  for (const [tenant, t] of Object.entries(result.tenants ?? {})) {
    const refused = sorted(t.byStatus).filter(([status]) => status !== "200");
    lines.push(
      `  tenant ${tenant.padEnd(6)}${t.succeeded} ok (${percent(t.share)} of all ok), ${t.failed} failed` +
        `${refused.length > 0 ? ` [${refused.map(([status, n]) => `${status} × ${n}`).join(", ")}]` : ""}` +
        `; p50 ${ms(t.latencyMs.p50Ms)} ms, p99 ${ms(t.latencyMs.p99Ms)} ms`,
    );
  }
  const v = result.verdict;
  const verdict = v.interrupted
    ? "INTERRUPTED"
    : `${v.passed ? "PASS" : "FAIL"}: error rate ${percent(v.errorRate)} ${v.passed ? "≤" : ">"} ${percent(v.maxErrorRate)}`;
  lines.push(`  verdict      ${verdict}`);
  return lines.join("\n");
}
