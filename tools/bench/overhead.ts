import { Launcher } from "./launcher.ts";
import { interleavedRounds, type RoundTarget } from "./rounds.ts";
import {
  expectRoundTrip,
  OVERHEAD,
  OVERHEAD_BODY,
  overheadTarget,
  type PostResult,
  postRun,
  serviceEnv,
} from "./scenarios.ts";
import { runWrk, type WrkResult, type WrkRun, wrkCommand } from "./wrk.ts";

/** The pipelines the overhead scenario compares: the product and the two minimal yardsticks. */
export const PIPELINES = ["product", "native", "ioredis"] as const;
export type Pipeline = (typeof PIPELINES)[number];

export interface OverheadResult {
  healthz: WrkResult;
  /** The product's POST, the median of the rounds (by req/s). */
  post: PostResult;
  commands: { healthz: string; post: string };
}

export interface OverheadComparison {
  overhead: OverheadResult;
  /** The minimal pipelines' POST, each the median of its rounds. */
  minimal: { native: PostResult; ioredis: PostResult };
  /** req/s of every round, in the order they ran: the spread says how noisy the machine was. */
  rounds: Record<Pipeline, number>[];
}

type Target = RoundTarget;

/** A minimal pipeline (tools/bench/minimal/<variant>) on its own redis-server. */
async function startMinimal(launcher: Launcher, variant: "native" | "ioredis"): Promise<Target> {
  const redis = await launcher.redis();
  const dir = `tools/bench/minimal/${variant}`;
  const env = { REDIS_URL: redis.url };
  const proxy = await launcher.service("proxy", `minimal-${variant}-proxy`, env, `${dir}/proxy.ts`);
  const ingress = await launcher.service("ingress", `minimal-${variant}-ingress`, env, `${dir}/ingress.ts`);
  await expectRoundTrip(ingress.url, OVERHEAD_BODY);
  return {
    run: postRun(ingress.url, 0),
    processes: { ingress: ingress.pid, proxy: proxy.pid, redis: redis.pid },
  };
}

/**
 * Overhead: what the gateway itself costs per request (PROCESSING_MS=0, one ingress, one proxy
 * with 64 terminals, 64 wrk connections), against two yardsticks in the same run: a bare
 * GET /healthz on the same ingress, and a minimal, tuned Redis Streams pipeline under the same
 * load (issue 2) — `native` (Bun.serve + Bun's native Redis client) and the same code on ioredis.
 *
 * All three stacks run side by side (idle ones cost nothing) and are measured in interleaved,
 * rotated rounds (rounds.ts), each `durationS`: a shared machine's speed drifts by tens of
 * percent within minutes, and interleaving puts every pipeline through the same drift. Each row
 * reports its median round.
 */
export async function runOverheadComparison(
  durationS: number,
  rounds: number,
  log: (line: string) => void,
): Promise<OverheadComparison> {
  const launcher = new Launcher();
  try {
    const product = await overheadTarget(launcher, (redisUrl) => serviceEnv(redisUrl, "bench-overhead"));
    const targets: Record<Pipeline, Target> = {
      product,
      native: await startMinimal(launcher, "native"),
      ioredis: await startMinimal(launcher, "ioredis"),
    };
    const healthzRun: WrkRun = {
      url: `${product.ingressUrl}/healthz`,
      connections: OVERHEAD.connections,
      threads: 2,
      durationS,
    };

    // The POST pipelines warm up in the rounds; the health check here, before its measurement.
    await runWrk({ ...healthzRun, durationS: Math.min(2, durationS) });
    log(`overhead: GET /healthz for ${durationS} s`);
    const healthz = await runWrk(healthzRun);

    const { medians, perRound } = await interleavedRounds({
      names: PIPELINES,
      targets,
      rounds,
      durationS,
      log,
      label: "overhead",
    });

    const show = (args: string[]) =>
      args.join(" ").replace(/http:\/\/127\.0\.0\.1:\d+/, "http://127.0.0.1:<port>");
    return {
      overhead: {
        healthz,
        post: medians.product,
        commands: {
          healthz: show(wrkCommand(healthzRun, "get.lua")),
          post: show(wrkCommand({ ...targets.product.run, durationS }, "post.lua")),
        },
      },
      minimal: { native: medians.native, ioredis: medians.ioredis },
      rounds: perRound,
    };
  } finally {
    await launcher.stopAll();
  }
}
