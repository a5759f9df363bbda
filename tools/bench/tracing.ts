import { usPerRequestOf } from "./cpu.ts";
import { Launcher } from "./launcher.ts";
import { fixedRateRounds, type LoadSample, type LoadTarget, loadTesterRounds } from "./load-rounds.ts";
import { interleavedRounds, type RoundTarget } from "./rounds.ts";
import {
  expectRoundTrip,
  OVERHEAD_BODY,
  overheadTarget,
  type PostResult,
  SATURATION_CONNECTIONS,
  saturationLoadArgs,
  serviceEnv,
  startSaturationStack,
} from "./scenarios.ts";

/**
 * The tracing variants compared (issue 20): off, on with every trace sampled, on with 1%, on
 * with a ratio of 0 (every wrapper and sampling decision, nothing sampled or exported, which
 * splits what 1% costs into what every request pays and what the sampled ones add), and off
 * again: a second untraced stack, identical to off, whose ratio to off is the noise of the run,
 * the scale against which the others' few percent are read.
 */
export const TRACING_VARIANTS = ["off", "on 100%", "on 1%", "on 0%", "off again"] as const;
export type TracingVariant = (typeof TRACING_VARIANTS)[number];

/** OTEL_TRACES_SAMPLER_ARG of each variant; undefined: tracing off. */
const SAMPLER_ARG: Record<TracingVariant, string | undefined> = {
  off: undefined,
  "on 100%": "1",
  "on 1%": "0.01",
  "on 0%": "0",
  "off again": undefined,
};

/**
 * Seconds of load on each stack before the rounds, per second of a round: the JIT of a traced
 * stack keeps compiling for about a minute (docs/architecture.md, "What stop 28 added").
 */
const WARMUP_PER_ROUND_S = 3;

/**
 * The offered load of the CPU comparison (requests/s): under what even the 100% stack answers at
 * saturation on a 2-core machine, so every variant keeps up and is charged only its own work.
 */
export const TRACING_FIXED_RATE = 4000;

export interface TracingComparison {
  /** Each variant's median round (by req/s). */
  results: Record<TracingVariant, PostResult>;
  /** req/s of every round, in the order they ran. */
  rounds: Record<TracingVariant, number>[];
  /**
   * The gateway's CPU per request (ingress + proxy, µs, from /proc) in every saturation round:
   * steadier than req/s on a busy machine (0 where /proc was not readable).
   */
  saturationCpu: Record<TracingVariant, number>[];
  /** The same load at TRACING_FIXED_RATE on each variant: CPU per answered request, every round. */
  fixedRate: { rate: number; rounds: Record<TracingVariant, LoadSample>[] };
  /**
   * The saturation scenario (3 proxies × 50 terminals at 150 ms, a closed loop of 300 connections)
   * on each variant, every round: what tracing costs where the backend, not the gateway, is the
   * limit, as in the deployments the gateway is built for.
   */
  nominal: { rounds: Record<TracingVariant, LoadSample>[] };
  /** What reached the OTLP sink over the whole run. */
  exported: { requests: number; bytes: number };
  /** Seconds each stack ran unmeasured before the saturation rounds. */
  warmupS: number;
}

/** The OTEL_* variables of each variant; the sink is a local OTLP/HTTP receiver. */
function tracingEnv(variant: TracingVariant, sinkUrl: string): Record<string, string> {
  const ratio = SAMPLER_ARG[variant];
  if (ratio === undefined) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: ratio,
  };
}

/**
 * An OTLP/HTTP sink in the bench process: takes every export, reads it whole, answers 200. It
 * stands in for a collector; reading the body is what a collector must do at the least.
 */
function startSink() {
  const exported = { requests: 0, bytes: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (request) => {
      exported.requests++;
      exported.bytes += (await request.arrayBuffer()).byteLength;
      return new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, exported, stop: () => server.stop(true) };
}

/**
 * Tracing's cost on the overhead scenario (PROCESSING_MS=0, one ingress, one proxy with 64
 * terminals, 64 wrk connections): a stack per variant side by side, each on its own redis-server,
 * measured in interleaved rounds as the overhead comparison is, so machine drift hits them all.
 * With tracing on, wrk sends no traceparent: every request is a new trace, sampled at the ingress.
 */
export async function runTracingComparison(
  durationS: number,
  rounds: number,
  log: (line: string) => void,
): Promise<TracingComparison> {
  const launcher = new Launcher();
  const sink = startSink();
  try {
    const warmupS = WARMUP_PER_ROUND_S * durationS;
    const targets = {} as Record<TracingVariant, RoundTarget>;
    const fixedTargets = {} as Record<TracingVariant, LoadTarget>;
    for (const variant of TRACING_VARIANTS) {
      const target = await overheadTarget(launcher, (redisUrl) => ({
        ...serviceEnv(redisUrl, "bench-tracing"),
        ...tracingEnv(variant, sink.url),
      }));
      targets[variant] = target;
      // The gateway's own CPU: Redis is the same work whatever the tracing.
      const { ingress, proxy } = target.processes;
      fixedTargets[variant] = {
        ingressUrl: target.ingressUrl,
        processes: { ingress: ingress!, proxy: proxy! },
      };
    }
    const { medians, perRound, samples } = await interleavedRounds({
      names: TRACING_VARIANTS,
      targets,
      rounds,
      durationS,
      log,
      label: "tracing",
      warmupS,
    });
    const fixed = await fixedRateRounds({
      names: TRACING_VARIANTS,
      targets: fixedTargets,
      rate: TRACING_FIXED_RATE,
      rounds,
      durationS,
      log,
      label: "tracing at a fixed rate",
    });
    const nominal = await nominalRounds({
      launcher,
      sinkUrl: sink.url,
      rounds: Math.min(NOMINAL_ROUNDS, rounds),
      durationS,
      log,
    });
    return {
      results: medians,
      rounds: perRound,
      // The same processes the fixed-rate rounds count: the gateway's, not Redis.
      saturationCpu: samples.map(
        (sample) =>
          Object.fromEntries(
            TRACING_VARIANTS.map((variant) => [
              variant,
              usPerRequestOf(sample[variant].cpu?.usPerRequest, ["ingress", "proxy"]),
            ]),
          ) as Record<TracingVariant, number>,
      ),
      fixedRate: { rate: TRACING_FIXED_RATE, rounds: fixed },
      nominal: { rounds: nominal },
      exported: { ...sink.exported },
      warmupS,
    };
  } finally {
    // A graceful stop: the traced services flush to the sink before it goes.
    await launcher.stopAll();
    sink.stop();
  }
}

/** Rounds of the saturation scenario: its result hardly scatters (the backend's 150 ms sets it). */
const NOMINAL_ROUNDS = 3;

/**
 * The saturation scenario on each variant (a stack of its own per variant, on its own
 * redis-server), warmed once unmeasured, then in interleaved, rotated rounds; the CPU counted is the
 * ingress's and the three proxies'.
 */
async function nominalRounds(options: {
  launcher: Launcher;
  sinkUrl: string;
  rounds: number;
  durationS: number;
  log: (line: string) => void;
}): Promise<Record<TracingVariant, LoadSample>[]> {
  const { launcher, sinkUrl, rounds, durationS, log } = options;
  const targets = {} as Record<TracingVariant, LoadTarget>;
  for (const variant of TRACING_VARIANTS) {
    const redis = await launcher.redis();
    const { ingress, proxies } = await startSaturationStack(launcher, {
      ...serviceEnv(redis.url, "bench-tracing-nominal"),
      ...tracingEnv(variant, sinkUrl),
    });
    await expectRoundTrip(ingress.url, OVERHEAD_BODY);
    const processes: Record<string, number> = { ingress: ingress.pid };
    for (const proxy of proxies) processes[proxy.name] = proxy.pid;
    targets[variant] = { ingressUrl: ingress.url, processes };
  }
  log(`tracing in the saturation scenario: warming up`);
  await loadTesterRounds({
    names: TRACING_VARIANTS,
    targets,
    args: saturationLoadArgs(Math.min(3, durationS), 0),
    describe: "warm-up",
    rounds: 1,
    durationS: Math.min(3, durationS),
    log,
    label: "tracing in the saturation scenario",
  });
  return await loadTesterRounds({
    names: TRACING_VARIANTS,
    targets,
    args: saturationLoadArgs(durationS, 0),
    describe: `${SATURATION_CONNECTIONS} connections, closed loop`,
    rounds,
    durationS,
    log,
    label: "tracing in the saturation scenario",
  });
}
