import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadTestResult } from "../load-test/result.ts";
import { type CpuBreakdown, startCpuSample } from "./cpu.ts";
import { Launcher } from "./launcher.ts";
import { runLoadTester } from "./load-tester.ts";
import type { RoundTarget } from "./rounds.ts";
import { runWrk, type WrkResult, type WrkRun } from "./wrk.ts";

/** The two scenarios of issue 2's benchmark, with the parameters fixed there. */
export const OVERHEAD = { terminals: 64, connections: 64, processingMs: 0 } as const;
export const SATURATION = { proxies: 3, terminals: 50, processingMs: 150 } as const;

/** A ~100-byte JSON body, as a small real request would be. */
export const OVERHEAD_BODY = JSON.stringify({
  payload: { orderId: "ord-000042", customer: "c-1337", items: [{ sku: "sku-7", qty: 2 }], note: "bench" },
});

/** A POST measurement, with where the CPU went during it when /proc could tell. */
export type PostResult = WrkResult & { cpu?: CpuBreakdown };

export interface SaturationResult {
  connections: number;
  theoreticalRps: number;
  achievedRps: number;
  efficiency: number;
  /** Mean processing time the proxies reported (the simulator's timer overshoots 150 ms a little). */
  meanProcessingMs: number | null;
  /** Achieved ÷ (terminals ÷ measured processing time): how well terminals are refilled, timer overshoot aside. */
  refillEfficiency: number | null;
  load: LoadTestResult;
  command: string;
}

export function serviceEnv(redisUrl: string, prefix: string): Record<string, string> {
  return { REDIS_URL: redisUrl, STREAM_PREFIX: prefix, LOG_LEVEL: "warn" };
}

/** The overhead scenario's services: one proxy with 64 terminals at 0 ms, one ingress without shedding. */
export async function startOverheadStack(launcher: Launcher, env: Record<string, string>) {
  const proxy = await launcher.service("proxy", "proxy-1", {
    ...env,
    POD_NAME: "bench-proxy-1",
    TERMINALS: String(OVERHEAD.terminals),
    PROCESSING_MS: String(OVERHEAD.processingMs),
  });
  const ingress = await launcher.service("ingress", "ingress", {
    ...env,
    POD_NAME: "bench-ingress",
    MAX_QUEUE_DEPTH: "0",
  });
  return { ingress, proxy };
}

/**
 * The overhead stack on a redis-server of its own (`env` from that server's URL), checked with one
 * round trip: a target of the interleaved rounds (rounds.ts), with the processes whose CPU it uses.
 */
export async function overheadTarget(
  launcher: Launcher,
  env: (redisUrl: string) => Record<string, string>,
): Promise<RoundTarget & { ingressUrl: string }> {
  const redis = await launcher.redis();
  const { ingress, proxy } = await startOverheadStack(launcher, env(redis.url));
  await expectRoundTrip(ingress.url, OVERHEAD_BODY);
  return {
    ingressUrl: ingress.url,
    run: postRun(ingress.url, 0),
    processes: { ingress: ingress.pid, proxy: proxy.pid, redis: redis.pid },
  };
}

export async function expectRoundTrip(ingressUrl: string, body: string): Promise<void> {
  const response = await fetch(`${ingressUrl}/api/requests`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    // A stack that does not answer must fail the benchmark, not hang it.
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`the stack does not answer: POST /api/requests → ${response.status} ${text}`);
}

/**
 * Saturation: 3 proxies × 50 terminals at 150 ms, so the fleet can finish at most
 * 150 ÷ 0.15 s = 1000 req/s. The load tester keeps twice as many connections as terminals in a
 * closed loop, so a request always waits in Redis for each terminal that frees; any shortfall
 * from 1000 req/s is time a terminal sat idle between two requests.
 */
export async function runSaturation(
  durationS: number,
  log: (line: string) => void,
): Promise<SaturationResult> {
  const launcher = new Launcher();
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-"));
  try {
    const redis = await launcher.redis();
    const { ingress } = await startSaturationStack(launcher, serviceEnv(redis.url, "bench-saturation"));
    await expectRoundTrip(ingress.url, OVERHEAD_BODY);

    const terminals = SATURATION.proxies * SATURATION.terminals;
    const args = saturationLoadArgs(durationS);
    const jsonPath = join(dir, "saturation.json");
    log(`saturation: ${SATURATION_CONNECTIONS} connections, closed loop, 1 s warm-up + ${durationS} s`);
    const load = await runLoadTester({ url: ingress.url, args, durationS, jsonPath, name: "saturation" });
    const achievedRps = load.throughput.succeededPerS;
    const meanProcessingMs = load.server.meanProcessingMs;
    return {
      connections: SATURATION_CONNECTIONS,
      theoreticalRps: SATURATION_RPS,
      achievedRps,
      efficiency: achievedRps / SATURATION_RPS,
      meanProcessingMs,
      refillEfficiency: meanProcessingMs ? achievedRps / (terminals / (meanProcessingMs / 1000)) : null,
      load,
      command: `bun run load-test -- --url http://127.0.0.1:<port> ${args.join(" ")}`,
    };
  } finally {
    await launcher.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The saturation scenario's most requests per second: every terminal busy with a 150 ms request. */
export const SATURATION_RPS = (SATURATION.proxies * SATURATION.terminals) / (SATURATION.processingMs / 1000);

/** Twice as many connections as terminals: a request always waits in Redis for each terminal. */
export const SATURATION_CONNECTIONS = SATURATION.proxies * SATURATION.terminals * 2;

/** The saturation scenario's services: 3 proxies × 50 terminals at 150 ms, one ingress without shedding. */
export async function startSaturationStack(launcher: Launcher, env: Record<string, string>) {
  const proxies = await Promise.all(
    Array.from({ length: SATURATION.proxies }, (_, index) =>
      launcher.service("proxy", `proxy-${index + 1}`, {
        ...env,
        POD_NAME: `bench-proxy-${index + 1}`,
        TERMINALS: String(SATURATION.terminals),
        PROCESSING_MS: String(SATURATION.processingMs),
      }),
    ),
  );
  const ingress = await launcher.service("ingress", "ingress", {
    ...env,
    POD_NAME: "bench-ingress",
    MAX_QUEUE_DEPTH: "0",
  });
  return { ingress, proxies };
}

/** The load tester's arguments for the saturation scenario: a closed loop, a warm-up, then `durationS`. */
export function saturationLoadArgs(durationS: number, warmupS = 1): string[] {
  return [
    "--mode",
    "concurrent",
    "--concurrency",
    String(SATURATION_CONNECTIONS),
    "--duration",
    String(durationS),
    "--warmup",
    String(warmupS),
    "--max-error-rate",
    "100%",
    "--no-progress",
  ];
}

/** One wrk run with the CPU of `processes` sampled over it. */
export async function measured(run: WrkRun, processes: Record<string, number>): Promise<PostResult> {
  const stop = startCpuSample(processes);
  const result = await runWrk(run);
  const cpu = stop?.(result.requests, result.durationS);
  return cpu ? { ...result, cpu } : result;
}

/** wrk's POST of the overhead body against an ingress, with the scenario's connections. */
export function postRun(ingressUrl: string, durationS: number): WrkRun {
  return {
    url: `${ingressUrl}/api/requests`,
    connections: OVERHEAD.connections,
    threads: 2,
    durationS,
    body: OVERHEAD_BODY,
  };
}

/** Runs wrk's POST against an ingress already started, after a short warm-up. */
async function measurePost(ingressUrl: string, durationS: number): Promise<WrkResult> {
  await expectRoundTrip(ingressUrl, OVERHEAD_BODY);
  const run = postRun(ingressUrl, durationS);
  await runWrk({ ...run, durationS: Math.min(3, durationS) });
  return await runWrk(run);
}

/**
 * Issue 9's scenario: the overhead run on a local Redis Cluster of 3 masters with 3 request
 * stream shards (one ingress, one proxy with 64 terminals), next to the single-node result.
 */
export async function runClusterOverhead(durationS: number, log: (line: string) => void): Promise<WrkResult> {
  const launcher = new Launcher();
  try {
    const { seeds } = await launcher.redisCluster(3);
    const env = {
      ...serviceEnv("redis://127.0.0.1:6379", "bench-cluster"),
      REDIS_CLUSTER_NODES: seeds,
      STREAM_SHARDS: "3",
    };
    const { ingress } = await startOverheadStack(launcher, env);
    log(`cluster: POST for ${durationS} s on 3 masters, 3 shards`);
    return await measurePost(ingress.url, durationS);
  } finally {
    await launcher.stopAll();
  }
}
