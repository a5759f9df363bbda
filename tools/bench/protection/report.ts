import type { ProtectionResult } from "./scenarios.ts";
import { PROTECTION } from "./stack.ts";

const n1 = (x: number) => x.toFixed(1);
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const seconds = (x: number | null) => (x === null ? "did not settle" : `${x.toFixed(1)} s`);

/** The protection scenarios' results (issue 17's "Prove it" list) as markdown, for docs/benchmarks.md. */
export function protectionMarkdown(
  result: ProtectionResult,
  header: { date: Date; command: string; machine?: { nproc: number; loadAverage: number } },
): string {
  const fixed = result.sweep.filter((row) => row.setting.startsWith("fixed"));
  const best = fixed.reduce((a, b) => (b.goodputRps > a.goodputRps ? b : a), fixed[0] ?? result.sweep[0]!);
  const adaptive = result.sweep.find((row) => row.setting === "adaptive (knee 16)");
  const fixed64 = fixed.find((row) => row.setting.startsWith(`fixed TERMINALS=${PROTECTION.terminals} `));
  const lines = [
    "## Protecting the backend (issue 17)",
    "",
    `- **Date:** ${header.date.toISOString().replace(/\.\d+Z$/, "Z")}; **command:** \`${header.command}\``,
    ...(header.machine
      ? [
          `- ${header.machine.nproc} CPUs shared by the load generator, Redis, the backend and the services; 1-minute load average ${header.machine.loadAverage} at the start${header.machine.loadAverage > header.machine.nproc / 2 ? " (other work was running: timings below are pessimistic and noisy)" : ""}.`,
        ]
      : []),
    `- The fragile backend (\`tools/fragile-backend\`) with a knee at ${PROTECTION.knee} concurrent calls and ${PROTECTION.baseMs} ms below it; ${PROTECTION.proxies} proxies; 200 closed-loop connections with a 2 s deadline unless said otherwise. Goodput = answers 200 within their deadline, per second, over requests sent from 4 s to 12 s of each run (8 s after the halving for the second adaptive row): the first seconds fill the queue, and the convergence rows say how long adaptive took.`,
    "",
    "| setting | goodput (req/s) | p99 of 200s (ms) |",
    "|---|---|---|",
    ...result.sweep.map((row) => `| ${row.setting} | ${n1(row.goodputRps)} | ${row.p99Ms.toFixed(0)} |`),
    "",
    "| check | target | measured |",
    "|---|---|---|",
    `| adaptive goodput vs the best fixed (${best.setting}) | ≥ 95% | ${adaptive && best.goodputRps > 0 ? pct(adaptive.goodputRps / best.goodputRps) : "n/a"} |`,
    `| adaptive goodput vs fixed ${PROTECTION.terminals} | well above | ${adaptive && fixed64 ? `${n1(adaptive.goodputRps)} vs ${n1(fixed64.goodputRps)} req/s` : "n/a"} |`,
    `| convergence from start (fleet limit within ±25% of the knee) | ≤ 10 s | ${seconds(result.convergenceS.start)} |`,
    `| convergence after the knee halved | ≤ 10 s | ${seconds(result.convergenceS.afterHalving)} |`,
    `| rate limit ${result.rate.rps}/s: most calls in a 1 s window (${result.rate.windows} windows) | ≤ ${n1(result.rate.rps * 1.05)} | ${result.rate.maxPerSecond} |`,
    `| 429 storm: dead letters | 0 | ${result.storm.deadLetters} |`,
    `| 429 storm: calls the backend got during the storm | a handful | ${result.storm.callsDuringStorm} |`,
    `| 429 storm: requests answered 200 | all | ${result.storm.succeeded} of ${result.storm.sent} |`,
    `| outage + breaker: most backend calls in a second while open | a few probes | ${result.outage.probesPerSecondMax} |`,
    `| outage + breaker: p99 of the ingress's 503s (${result.outage.refusals}) | < 50 ms | ${result.outage.refusalP99Ms.toFixed(0)} ms |`,
    `| outage + breaker: first 200 after recovery | ≤ 2 s | ${seconds(result.outage.recoveryS)} |`,
    ...result.admission.flatMap((row) => [
      `| overload 3×, ADMISSION=${row.mode}: share of 504s | < 1% | ${pct(row.timeoutShare)} |`,
      `| overload 3×, ADMISSION=${row.mode}: p99 of 503s, with Retry-After | < 50 ms, all | ${row.refusalP99Ms.toFixed(0)} ms, ${pct(row.retryAfterShare)} |`,
      `| overload 3×, ADMISSION=${row.mode}: goodput / capacity | ≥ 97% | ${pct(row.goodputShare)} |`,
    ]),
    "",
    "The overhead with every protection off is the overhead scenario above (`bun run bench -- --only overhead`); the off path adds one check per request. Correctness of each mechanism is proven by the tests in `tests/protection/` against real processes; these figures are timings and move with the machine.",
  ];
  return lines.join("\n");
}
