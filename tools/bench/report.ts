import type { Machine } from "./machine.ts";

export { protectionMarkdown } from "./protection/report.ts";

import type { OverheadResult, Pipeline } from "./overhead.ts";
import { OVERHEAD, OVERHEAD_BODY, type PostResult, SATURATION, type SaturationResult } from "./scenarios.ts";
import type { WrkResult } from "./wrk.ts";

/** Issue 2's bars: within 20% of a minimal Redis Streams pipeline, and ≥ 98.5% of the saturation limit. */
export const TARGETS = { overheadRps: 32_000, overheadP99Ms: 5, saturationEfficiency: 0.985 } as const;

export interface BenchRun {
  date: Date;
  command: string;
  durationS: number;
  machine: Machine;
  overhead: OverheadResult | null;
  saturation: SaturationResult | null;
  /** The minimal Redis Streams pipeline under the same load: tuned (Bun's native client) and on ioredis. */
  minimal: { native: PostResult; ioredis: PostResult } | null;
  /** req/s of each interleaved overhead round (the rows above report the median round). */
  rounds: Record<Pipeline, number>[];
  /** The overhead POST on a 3-master Redis Cluster with 3 shards. */
  cluster: WrkResult | null;
}

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const mark = (ok: boolean) => (ok ? "meets" : "**below**");

/** The results table, printed to the terminal and embedded in docs/benchmarks.md. */
export function resultsTable(run: BenchRun): string {
  const rows = [
    "| scenario | req/s | p50 ms | p99 ms | p99.9 ms | errors | reading |",
    "|---|--:|--:|--:|--:|--:|---|",
  ];
  const o = run.overhead;
  if (o) {
    rows.push(
      `| overhead: bare \`GET /healthz\` (yardstick) | ${n0(o.healthz.rps)} | ${ms(o.healthz.p50Ms)} | ${ms(o.healthz.p99Ms)} | ${ms(o.healthz.p999Ms)} | ${o.healthz.errors} | 100% |`,
      `| overhead: \`POST /api/requests\`, 1 proxy × ${OVERHEAD.terminals} terminals, PROCESSING_MS=0 | ${n0(o.post.rps)} | ${ms(o.post.p50Ms)} | ${ms(o.post.p99Ms)} | ${ms(o.post.p999Ms)} | ${o.post.errors} | ${pct(o.post.rps / o.healthz.rps)} of healthz req/s, p99 × ${(o.post.p99Ms / o.healthz.p99Ms).toFixed(1)}; target ≥ ${n0(TARGETS.overheadRps)} req/s: ${mark(o.post.rps >= TARGETS.overheadRps)}, p99 ≤ ${TARGETS.overheadP99Ms} ms: ${mark(o.post.p99Ms <= TARGETS.overheadP99Ms)} |`,
    );
  }
  if (run.minimal) {
    const { native, ioredis } = run.minimal;
    rows.push(
      `| minimal Redis Streams pipeline, tuned (yardstick: tools/bench/minimal/native, Bun's native client), same wrk load | ${n0(native.rps)} | ${ms(native.p50Ms)} | ${ms(native.p99Ms)} | ${ms(native.p999Ms)} | ${native.errors} | ${o ? `the product's POST reaches ${pct(o.post.rps / native.rps)} of it (target ≥ 80%: ${mark(o.post.rps >= 0.8 * native.rps)})` : "—"} |`,
      `| the same minimal pipeline on ioredis (tools/bench/minimal/ioredis) | ${n0(ioredis.rps)} | ${ms(ioredis.p50Ms)} | ${ms(ioredis.p99Ms)} | ${ms(ioredis.p999Ms)} | ${ioredis.errors} | ${pct(ioredis.rps / native.rps)} of the tuned one${o ? `; the product's POST reaches ${pct(o.post.rps / ioredis.rps)} of it` : ""} |`,
    );
  }
  const c = run.cluster;
  if (c) {
    rows.push(
      `| overhead on a Redis Cluster: 3 masters, STREAM_SHARDS=3, 1 proxy × ${OVERHEAD.terminals} terminals | ${n0(c.rps)} | ${ms(c.p50Ms)} | ${ms(c.p99Ms)} | ${ms(c.p999Ms)} | ${c.errors} | ${o ? `${pct(c.rps / o.post.rps)} of the single-node POST in this run` : "—"} |`,
    );
  }
  const s = run.saturation;
  if (s) {
    const l = s.load.latencyMs;
    rows.push(
      `| saturation: ${SATURATION.proxies} proxies × ${SATURATION.terminals} terminals, PROCESSING_MS=${SATURATION.processingMs}, ${s.connections} connections | ${n0(s.achievedRps)} | ${ms(l.p50Ms)} | ${ms(l.p99Ms)} | ${ms(l.p999Ms)} | ${s.load.totals.failed} | efficiency ${pct(s.efficiency)} of ${n0(s.theoreticalRps)} req/s; target ≥ ${pct(TARGETS.saturationEfficiency)}: ${mark(s.efficiency >= TARGETS.saturationEfficiency)}${s.refillEfficiency !== null && s.meanProcessingMs !== null ? `; ${pct(s.refillEfficiency)} of what the measured ${ms(s.meanProcessingMs)} ms processing allows` : ""} |`,
    );
  }
  return rows.join("\n");
}

/** The overhead rounds, in the order they ran, with the product ÷ tuned-minimal ratio of each. */
export function roundsSummary(run: BenchRun): string | undefined {
  if (run.rounds.length === 0) return undefined;
  const rounds = run.rounds
    .map(
      (round, index) =>
        `round ${index + 1}: ${n0(round.product)} / ${n0(round.native)} / ${n0(round.ioredis)} (${pct(round.product / round.native)})`,
    )
    .join("; ");
  return `POST req/s of each interleaved round — product / tuned minimal / minimal on ioredis (product ÷ tuned): ${rounds}. Each row above is its pipeline's median round.`;
}

/**
 * CPU per request by process for the POST runs: the product's and the minimal pipelines', side by
 * side, so the difference says which process spends what the ratio loses.
 */
export function cpuTable(run: BenchRun): string | undefined {
  const rows: [string, PostResult][] = [];
  if (run.overhead) rows.push(["product `POST /api/requests`", run.overhead.post]);
  if (run.minimal) {
    rows.push(["minimal pipeline, tuned (native client)", run.minimal.native]);
    rows.push(["minimal pipeline on ioredis", run.minimal.ioredis]);
  }
  const measured = rows.filter(([, result]) => result.cpu);
  if (measured.length === 0) return undefined;
  const columns = ["ingress", "proxy", "redis", "wrk + rest"];
  const lines = [
    `| POST run | ${columns.map((c) => `${c} µs`).join(" | ")} | total µs | cores busy |`,
    `|---|${columns.map(() => "--:").join("|")}|--:|--:|`,
  ];
  for (const [name, result] of measured) {
    const cpu = result.cpu as NonNullable<PostResult["cpu"]>;
    const total = columns.reduce((sum, c) => sum + (cpu.usPerRequest[c] ?? 0), 0);
    const cores = columns.reduce((sum, c) => sum + (cpu.cores[c] ?? 0), 0);
    lines.push(
      `| ${name} | ${columns.map((c) => (cpu.usPerRequest[c] ?? 0).toFixed(1)).join(" | ")} | ${total.toFixed(1)} | ${cores.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

/** docs/benchmarks.md, generated whole so the numbers, the command and the machine never drift apart. */
export function benchmarksMarkdown(run: BenchRun): string {
  const m = run.machine;
  const o = run.overhead;
  const s = run.saturation;
  return `# Benchmarks

<!-- Generated by \`bun run bench\` (tools/bench). Edit tools/bench/report.ts, not this file: the next run rewrites it. -->

Two questions, measured on one machine with the real services:

1. **Overhead** — what does the gateway (HTTP → Redis Stream → proxy → reply stream → HTTP) cost
   per request when the backend takes no time at all?
2. **Saturation** — with a slow backend, does the fleet keep every terminal busy, so that it
   completes as many requests per second as its terminals allow?

## Latest results

- **Date:** ${run.date.toISOString().replace(/\.\d+Z$/, "Z")}
- **Command:** \`${run.command}\` (each measurement ${run.durationS} s)
- **Machine:** ${m.nproc} CPUs (\`nproc\`), ${m.cpuModel}, ${m.memoryGiB} GiB RAM, ${m.kernel}
- **Software:** Bun ${m.bun}, Redis ${m.redis}, wrk ${m.wrk}; commit ${m.commit}
- Load generator, Redis and every service share these ${m.nproc} CPUs; the 1-minute load average
  was ${m.loadAverage} when the run started${m.loadAverage > m.nproc / 2 ? " (other work was running: expect these numbers to be lower and noisier than on an idle machine)" : ""}.

${resultsTable(run)}

${roundsSummary(run) ?? ""}
${
  cpuTable(run)
    ? `
### Where the CPU goes

CPU time per answered request, by process, in the POST runs above (from \`/proc\`: each process's
user + system time over the measured window, divided by the requests answered; "wrk + rest" is
the machine's remaining busy time). With everything on ${m.nproc} CPUs, the req/s of a run is
roughly ${m.nproc} cores ÷ its total, as long as no single process is the one that is saturated.

${cpuTable(run)}
`
    : ""
}
${o ? `Overhead commands (wrk; the bench generates the Lua scripts, which also print wrk's numbers as JSON):\n\n\`\`\`sh\n${o.commands.healthz}\n${o.commands.post}\n\`\`\`\n\nwith \`post.lua\` setting the ${Buffer.byteLength(OVERHEAD_BODY)}-byte request:\n\n\`\`\`lua\nwrk.method = "POST"\nwrk.body = '${OVERHEAD_BODY}'\nwrk.headers["Content-Type"] = "application/json"\n\`\`\`\n` : ""}
${
  s
    ? `Saturation command (the load tester of \`docs/load-test.md\`):\n\n\`\`\`sh\n${s.command}\n\`\`\`\n\nIn the saturation run the server reported on average ${s.load.server.meanQueuedMs !== null ? `${ms(s.load.server.meanQueuedMs)} ms queued + ${ms(s.load.server.meanProcessingMs ?? 0)} ms processing` : "no timing"} per request; ${s.load.totals.succeeded.toLocaleString("en-US")} requests succeeded in the ${s.load.throughput.windowS.toFixed(1)} s window, served by ${Object.entries(
        s.load.server.pods,
      )
        .map(([pod, count]) => `${pod} ${count.toLocaleString("en-US")}`)
        .join(", ")}.\n`
    : ""
}
## How to read the numbers

- **req/s** — requests answered per second over the measured window. For the overhead rows wrk
  counts every answer; errors (non-2xx answers and socket errors) are shown beside it and should be 0.
- **p50 / p99 / p99.9** — latency percentiles: half, 99% and 99.9% of requests were answered
  within this time. wrk measures from when it wrote the request; the load tester from when its
  connection started the request (closed loop) — both on the same machine as the server.
- **Ratio to \`/healthz\`** — the bare health route runs on the same ingress, through the same HTTP
  server and the same wrk settings, in the same run. Dividing by it cancels out the machine and the
  load generator: what remains is the cost of the queue round trip (two stream writes, two blocking
  reads, an ack, JSON encoding). Compare the ratio between runs and machines rather than the raw
  req/s, which move with the CPU and whatever else runs on it.
- **Rounds and the minimal pipelines** — the product and two minimal Redis Streams pipelines
  (\`tools/bench/minimal/\`: Bun.serve, one \`XADD\`, one consumer-group worker, one reply \`XREAD\`;
  no validation, deadlines, metrics or logs) run side by side and are measured in interleaved
  rounds, each round in a rotated order (product → tuned → ioredis, then tuned → ioredis →
  product, …) and each measurement only once all of them are idle, so no position and no
  leftover work of the one before favours any; each row shows its median round. The tuned one uses Bun's
  native Redis client and is issue 2's yardstick; the ioredis one shows what the client alone
  costs. On a shared virtual machine the speed of everything drifts by tens of percent within
  minutes; interleaving puts the three through the same drift, so compare the ratios.
- **Efficiency** (saturation) — achieved ÷ theoretical, where theoretical = terminals ÷ processing
  time = ${SATURATION.proxies} × ${SATURATION.terminals} ÷ ${SATURATION.processingMs / 1000} s = 1000 req/s. It is the fraction of
  the time the terminals were doing useful work. Every millisecond a terminal waits between
  finishing one request and starting the next (reply round trip, read latency, a poll interval)
  costs ${((1 / SATURATION.processingMs) * 100).toFixed(2)}% at 150 ms per request. The load tester keeps twice as many connections as
  terminals, so a request is always waiting in Redis for each terminal that frees.
  The proxies also report how long processing really took: a 150 ms timer fires a little late,
  and that overshoot is lost capacity the gateway cannot help. The second figure in the row,
  achieved ÷ (terminals ÷ *measured* processing time), leaves it out and isolates how quickly a
  freed terminal gets its next request.
  The first second is a warm-up (connections opened, terminals filled) and is not counted: a
  closed-loop run that counted it would lose ${SATURATION.processingMs} ms of a 10 s window to filling the pipeline
  (−1.5%) whatever the gateway does. The window then counts requests *completed* inside it.
- **Latency in the saturation row** is mostly queueing by design: with twice as many connections
  as terminals, each request waits for about one processing time before its own
  ${SATURATION.processingMs} ms, so p50 ≈ ${SATURATION.processingMs * 2} ms is the expected shape, not a problem.

### Targets (issue 2)

| | target | reference points on the same 2-core machine |
|---|---|---|
| overhead | ≥ ${n0(TARGETS.overheadRps)} req/s and p99 ≤ ${TARGETS.overheadP99Ms} ms (within 20% of a minimal pipeline) | minimal tuned Redis Streams request/reply 39–41k req/s, p99 ≈ 4.3 ms; NATS request/reply 24–26k; BullMQ \`waitUntilFinished\` ≈ 6k. Below 20k means a design mistake (a blocking read per message, no auto-pipelining, per-message acks, a timer per request). |
| saturation | efficiency ≥ ${pct(TARGETS.saturationEfficiency)} | NATS request/reply 98.7%, minimal Redis Streams pipeline 97.2%, BullMQ 97.3% |

### Caveats

- Everything runs on one machine: wrk or the load tester competes with Redis and the services for
  the same CPUs, so the overhead numbers are a floor for what separate machines would give, and
  they move by a few percent from run to run. Compare runs made on the same machine only.
- The overhead scenario measures the gateway, not a backend: real backends add their own time,
  and then the saturation scenario is the one that predicts capacity.
- \`LOG_LEVEL=warn\` and \`MAX_QUEUE_DEPTH=0\` (no shedding) during the benchmark.

## Running it

\`\`\`sh
bun run bench                      # every scenario, 10 s each, 5 overhead rounds; rewrites this file
bun run bench -- --duration 30     # longer measurements
bun run bench -- --rounds 9        # more interleaved overhead rounds (the median is reported)
bun run bench -- --only saturation --no-write
bun run bench -- --only fairness     # issue 18: tenants and lanes (its own section below)
bun run bench -- --only protection   # issue 17: the backend protections (its own section below)
bun run bench -- --only tracing      # issue 20: tracing off, on, at 1% (its own section below)
\`\`\`

Needs \`redis-server\` and \`wrk\` on PATH (Debian/Ubuntu: \`apt-get install redis-server wrk\`). The
benchmark starts its own private \`redis-server\` and services on free ports of 127.0.0.1 and stops
them at the end; it does not touch a running stack.
`;
}
