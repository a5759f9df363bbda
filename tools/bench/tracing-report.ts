import type { LoadSample } from "./load-rounds.ts";
import type { BenchRun } from "./report.ts";
import { roundOrder } from "./rounds.ts";
import { OVERHEAD, SATURATION, SATURATION_CONNECTIONS, SATURATION_RPS } from "./scenarios.ts";
import { TRACING_VARIANTS, type TracingComparison, type TracingVariant } from "./tracing.ts";

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The median, the lowest and the highest of `values` (0 each when there are none). */
function spread(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}

/** `variant` ÷ off within each round (req/s, or CPU per request). */
function pairedRatios(rounds: Record<TracingVariant, number>[], variant: TracingVariant) {
  return spread(rounds.filter((round) => round.off > 0).map((round) => round[variant] / round.off));
}

/** The ingress's and the proxies' CPU per answered request in one load-tester measurement. */
const gatewayCpu = (sample: LoadSample) => sample.usPerRequest.gateway ?? 0;

/** `read` of `variant` ÷ `read` of off within each round of load-tester measurements. */
function sampleRatios(
  rounds: Record<TracingVariant, LoadSample>[],
  variant: TracingVariant,
  read: (sample: LoadSample) => number,
) {
  return spread(
    rounds.filter((round) => read(round.off) > 0).map((round) => read(round[variant]) / read(round.off)),
  );
}

/** The fixed-rate rounds: each variant's medians, and its gateway CPU ÷ off's within each round. */
function fixedRateRows(fixed: TracingComparison["fixedRate"]) {
  const rounds = fixed.rounds;
  const perRequest = (variant: TracingVariant, process: string) =>
    spread(rounds.map((round) => round[variant].usPerRequest[process] ?? 0)).median;
  const ratios = (variant: TracingVariant) => sampleRatios(rounds, variant, gatewayCpu);
  const onePercent = ratios("on 1%");
  const zero = ratios("on 0%");
  const noise = ratios("off again");
  const rows = TRACING_VARIANTS.map((variant) => {
    const ratio = ratios(variant);
    const target =
      variant === "on 1%"
        ? onePercent.median <= 1.05
          ? " (meets: within 5% of off)"
          : " (**below**: more than 5% over off)"
        : "";
    const failed = rounds.reduce((sum, round) => sum + round[variant].failed, 0);
    const p50 = spread(rounds.map((round) => round[variant].p50Ms)).median;
    return `| ${variant} | ${perRequest(variant, "gateway").toFixed(1)} | ${pct(ratio.median)}${target} | ${perRequest(variant, "ingress").toFixed(1)} | ${perRequest(variant, "proxy").toFixed(1)} | ${ms(p50)} | ${failed} |`;
  });
  return { rows, onePercent, zero, noise };
}

/**
 * The saturation scenario's rounds: each variant's medians, with its req/s and gateway CPU per
 * request ÷ off's within each round.
 */
function nominalRows(nominal: TracingComparison["nominal"]) {
  const rounds = nominal.rounds;
  const median = (variant: TracingVariant, read: (sample: LoadSample) => number) =>
    spread(rounds.map((round) => read(round[variant]))).median;
  const ratio = (variant: TracingVariant, read: (sample: LoadSample) => number) =>
    sampleRatios(rounds, variant, read);
  const rps = (sample: LoadSample) => sample.rps;
  const cpu = gatewayCpu;
  const rows = TRACING_VARIANTS.map((variant) => {
    const failed = rounds.reduce((sum, round) => sum + round[variant].failed, 0);
    return `| ${variant} | ${n0(median(variant, rps))} | ${pct(median(variant, rps) / SATURATION_RPS)} | ${pct(ratio(variant, rps).median)} | ${ms(median(variant, (sample) => sample.p50Ms))} | ${ms(median(variant, (sample) => sample.p99Ms))} | ${median(variant, cpu).toFixed(1)} | ${pct(ratio(variant, cpu).median)} | ${failed} |`;
  });
  return { rows, onePercent: ratio("on 1%", rps), noise: ratio("off again", rps) };
}

/**
 * The gateway's CPU per request in the saturation rounds, each variant ÷ off within a round
 * (empty when /proc was not readable): on a busy machine it reads steadier than req/s.
 */
function saturationCpuLine(
  rounds: TracingComparison["saturationCpu"],
  range: (ratio: ReturnType<typeof spread>) => string,
): string {
  const measured = rounds.filter((round) => round.off > 0);
  if (measured.length === 0) return "";
  const ratios = TRACING_VARIANTS.filter((variant) => variant !== "off")
    .map((variant) => `for ${variant} ${range(pairedRatios(measured, variant))}`)
    .join(", ");
  return `\n\n**What saturation costs in CPU.** In the same rounds the ingress and the proxy used, per answered request (from \`/proc\`), ${ratios} of what off used in the same round (the median of the ratio within a round). On a busy machine this reads steadier than req/s (docs/architecture.md, "Where the saturation gap is").`;
}

/** The tracing comparison (bun run bench -- --only tracing) as a markdown section. */
export function tracingMarkdown(
  run: Pick<BenchRun, "date" | "command" | "durationS" | "machine">,
  comparison: TracingComparison,
): string {
  const off = comparison.results.off;
  const paired = pairedRatios(comparison.rounds, "on 1%");
  const pairedZero = pairedRatios(comparison.rounds, "on 0%");
  const pairedNoise = pairedRatios(comparison.rounds, "off again");
  const rows = TRACING_VARIANTS.map((variant) => {
    const result = comparison.results[variant];
    const ratio = off.rps > 0 ? result.rps / off.rps : 0;
    const target =
      variant === "on 1%"
        ? paired.median >= 0.95
          ? " (meets: the median round is within 5% of off)"
          : " (**below**: the median round is more than 5% under off)"
        : "";
    // CPU per request of the gateway's own processes: steadier than req/s on a busy machine.
    const cpu = (name: string) => result.cpu?.usPerRequest[name]?.toFixed(1) ?? "—";
    return `| ${variant} | ${n0(result.rps)} | ${ms(result.p50Ms)} | ${ms(result.p99Ms)} | ${pct(ratio)}${target} | ${cpu("ingress")} | ${cpu("proxy")} | ${result.errors} |`;
  });
  const fixed = fixedRateRows(comparison.fixedRate);
  const rounds = comparison.rounds
    .map((round) => TRACING_VARIANTS.map((variant) => n0(round[variant])).join(" / "))
    .join("; ");
  const order = (round: number) => roundOrder(TRACING_VARIANTS, round).join(" → ");
  const range = (ratio: ReturnType<typeof spread>) =>
    `${pct(ratio.median)} (lowest ${pct(ratio.min)}, highest ${pct(ratio.max)})`;
  const saturationCpu = saturationCpuLine(comparison.saturationCpu, range);
  const nominal = nominalRows(comparison.nominal);
  return `## Tracing overhead (issue 20)

- **Date:** ${run.date.toISOString().replace(/\.\d+Z$/, "Z")}; **command:** \`${run.command}\` (each measurement ${run.durationS} s); ${run.machine.nproc} CPUs, load average ${run.machine.loadAverage} at the start${run.machine.loadAverage > run.machine.nproc / 2 ? " (other work was running: the rounds below scatter, and the ratios are not to be trusted to a few percent)" : ""}; commit ${run.machine.commit}
- The overhead scenario (PROCESSING_MS=0, one ingress, one proxy with ${OVERHEAD.terminals} terminals, ${OVERHEAD.connections} wrk connections) ${TRACING_VARIANTS.length} times side by side, each stack on its own redis-server: tracing off (no \`OTEL_EXPORTER_OTLP_ENDPOINT\`), and on with \`OTEL_TRACES_SAMPLER=parentbased_traceidratio\` and \`OTEL_TRACES_SAMPLER_ARG\` 1 (every trace sampled), 0.01, and 0 (every wrapper and sampling decision, nothing sampled or exported: what every request pays, whatever the ratio), and off again, a second untraced stack started and measured like off: its ratio to off is how far two identical stacks read apart in this run, the noise the other ratios are read against. Each stack first runs unmeasured for ${comparison.warmupS} s (the JIT of a traced stack keeps compiling for about a minute). The traced stacks export OTLP/HTTP protobuf to a sink in the bench process; wrk sends no \`traceparent\`, so every request is a new trace sampled at the ingress.
- Interleaved rounds, each in a rotated order (${order(1)}, then ${order(2)}, …), each measurement once all the stacks are idle (the 100% stack's export backlog and garbage collection must not land on the next one's time); each row is its median round. The target is judged on the ratio within a round, on 1% ÷ off, whose median over the rounds is ${range(paired)}: drift between rounds cancels out of it. The same ratio for on 0% is ${range(pairedZero)}, and for off again ${range(pairedNoise)}.

| tracing | req/s | p50 ms | p99 ms | req/s vs off | ingress CPU µs/req | proxy CPU µs/req | errors |
|---|---|---|---|---|---|---|---|
${rows.join("\n")}

Rounds (req/s, ${TRACING_VARIANTS.join(" / ")}): ${rounds}.${saturationCpu}

**The same load on every variant.** Then each stack got ${n0(comparison.fixedRate.rate)} requests/s from the load tester in rate mode (open loop) for ${run.durationS} s, in as many interleaved, rotated rounds, and what it cost is the CPU the ingress and the proxy used per answered request (from \`/proc\`; Redis and the load tester left out). Below saturation this reading does not move with the machine's speed the way req/s does, and a slower variant does not look cheaper for batching more. Each value is the median over the rounds; "vs off" is the median of the ratio within a round, for on 1% ${range(fixed.onePercent)}, for on 0% ${range(fixed.zero)}, for off again ${range(fixed.noise)}.

| tracing | gateway CPU µs/req | vs off | ingress µs/req | proxy µs/req | p50 ms | failed |
|---|---|---|---|---|---|---|
${fixed.rows.join("\n")}

**Where the backend is the limit.** Last, the saturation scenario of the main table (${SATURATION.proxies} proxies × ${SATURATION.terminals} terminals, PROCESSING_MS=${SATURATION.processingMs}, at most ${n0(SATURATION_RPS)} req/s; the load tester keeps ${SATURATION_CONNECTIONS} connections in a closed loop) on a stack per variant, in ${comparison.nominal.rounds.length} interleaved, rotated rounds: the deployment the gateway is built for, a slow backend behind a few terminals. The gateway CPU is the ingress's and the three proxies'; "vs off" is the median of the ratio within a round (req/s for on 1%: ${range(nominal.onePercent)}; for off again: ${range(nominal.noise)}).

| tracing | req/s | of ${n0(SATURATION_RPS)} | req/s vs off | p50 ms | p99 ms | gateway CPU µs/req | CPU vs off | failed |
|---|---|---|---|---|---|---|---|---|
${nominal.rows.join("\n")}

The sink received ${n0(comparison.exported.requests)} exports, ${n0(comparison.exported.bytes / 1024)} KiB.
`;
}
