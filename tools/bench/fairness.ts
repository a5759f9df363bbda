import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LoadTestResult } from "../load-test/result.ts";
import { startCpuSample } from "./cpu.ts";
import { Launcher } from "./launcher.ts";
import { runLoadTester } from "./load-tester.ts";
import { serviceEnv } from "./scenarios.ts";

/** Issue 18's set-up: 1 proxy × 10 terminals at 100 ms, so the capacity is 100 req/s. */
export const FAIRNESS = { terminals: 10, processingMs: 100 } as const;

/** One load tester process of a scenario: who it is, how hard it pushes. */
interface Load {
  name: string;
  connections: number;
  args: string[];
}

export interface FairnessResult {
  alone: LoadTestResult;
  /** B (5 connections) while A pushes 200, with one FIFO (TENANT_LANES=off) and with lanes. */
  noisyFifo: LoadTestResult;
  noisyFair: LoadTestResult;
  /** A=3, B=1, both saturating: A's share of the completions. */
  weightedShareA: number;
  /** TENANT_MAX_QUEUE_DEPTH=50: A's 429s, and B's 429s + 503s. */
  quota: { a429: number; aOk: number; bRefused: number; bOk: number };
  /** Mean time in the queue (server-reported) of u=0 and u=3 requests under a full u=3 backlog. */
  priority: { urgentQueuedMs: number | null; bulkQueuedMs: number | null; bulkOk: number };
  /** CPU µs per request of ingress + proxy + redis at 0 ms with 10 tenants: lanes off vs on. */
  cost: { fifoUs: number; fairUs: number; fifoRps: number; fairRps: number };
}

/** Runs the load tester (its own process) for `durationS` and returns its JSON result. */
async function loadTest(url: string, load: Load, durationS: number, dir: string): Promise<LoadTestResult> {
  const args = [
    "--mode",
    "concurrent",
    "--concurrency",
    String(load.connections),
    "--duration",
    String(durationS),
  ];
  return await runLoadTester({
    url,
    args: [...args, ...load.args, "--max-error-rate", "100%", "--no-progress"],
    durationS,
    jsonPath: join(dir, `${load.name}-${Math.random().toString(36).slice(2)}.json`),
    name: load.name,
  });
}

/** A fresh Redis, one proxy and one ingress with `env`, the loads run together, everything stopped. */
async function scenario(
  env: Record<string, string>,
  loads: Load[],
  durationS: number,
  proxyEnv: Record<string, string> = {},
): Promise<{ results: LoadTestResult[]; cpuUsPerRequest: number }> {
  const launcher = new Launcher();
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-fair-"));
  try {
    const redis = await launcher.redis();
    const base = { ...serviceEnv(redis.url, "bench-fair"), MAX_QUEUE_DEPTH: "0", ...env };
    const proxy = await launcher.service("proxy", "proxy-1", {
      ...base,
      POD_NAME: "bench-proxy-1",
      TERMINALS: String(proxyEnv.TERMINALS ?? FAIRNESS.terminals),
      PROCESSING_MS: String(proxyEnv.PROCESSING_MS ?? FAIRNESS.processingMs),
      ...proxyEnv,
    });
    const ingress = await launcher.service("ingress", "ingress", { ...base, POD_NAME: "bench-ingress" });
    const stop = startCpuSample({ ingress: ingress.pid, proxy: proxy.pid, redis: redis.pid });
    const results = await Promise.all(loads.map((load) => loadTest(ingress.url, load, durationS, dir)));
    const answered = results.reduce((sum, result) => sum + result.totals.completed, 0);
    const cpu = stop?.(answered, durationS);
    const cpuUsPerRequest = cpu
      ? (cpu.usPerRequest.ingress ?? 0) + (cpu.usPerRequest.proxy ?? 0) + (cpu.usPerRequest.redis ?? 0)
      : 0;
    return { results, cpuUsPerRequest };
  } finally {
    await launcher.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

const tenant = (name: string, connections: number, ...extra: string[]): Load => ({
  name,
  connections,
  args: ["--tenant", name, ...extra],
});

/** The figures of issue 18, each from its own fresh stack, in one run. */
export async function runFairness(durationS: number, log: (line: string) => void): Promise<FairnessResult> {
  const lanes = { TENANT_LANES: "on" };
  log("fairness: B alone (5 connections)");
  const [alone] = (await scenario({}, [tenant("b", 5)], durationS)).results;
  log("fairness: A 200 + B 5 connections, one FIFO (TENANT_LANES=off)");
  const fifo = await scenario({}, [tenant("a", 200), tenant("b", 5)], durationS);
  log("fairness: A 200 + B 5 connections, lanes (TENANT_LANES=on)");
  const fair = await scenario(lanes, [tenant("a", 200), tenant("b", 5)], durationS);
  log("fairness: weights a=3,b=1, 50 connections each");
  const weighted = await scenario(lanes, [tenant("a", 50), tenant("b", 50)], durationS, {
    TENANT_WEIGHTS: "a=3,b=1",
  });
  log("fairness: TENANT_MAX_QUEUE_DEPTH=50, A 200 + B 5 connections");
  const quota = await scenario(
    { ...lanes, TENANT_MAX_QUEUE_DEPTH: "50" },
    [tenant("a", 200), tenant("b", 5)],
    durationS,
  );
  log("fairness: priority, 200 connections at u=3 and 5 at u=0 (one tenant)");
  const priority = await scenario(
    lanes,
    [tenant("p", 200, "--priority", "3"), { ...tenant("p", 5, "--priority", "0"), name: "urgent" }],
    durationS,
  );
  log("fairness: cost per request, 10 tenants round robin at 0 ms, 64 terminals: FIFO vs lanes");
  const tenTenants: Load = {
    name: "ten",
    connections: 64,
    args: Array.from({ length: 10 }, (_, index) => ["--tenant", `t${index}`]).flat(),
  };
  const zeroMs = { TERMINALS: "64", PROCESSING_MS: "0" };
  const costFifo = await scenario({}, [tenTenants], durationS, zeroMs);
  const costFair = await scenario(lanes, [tenTenants], durationS, zeroMs);

  const [weightedA, weightedB] = weighted.results;
  const okA = weightedA?.totals.succeeded ?? 0;
  const okB = weightedB?.totals.succeeded ?? 0;
  const [quotaA, quotaB] = quota.results;
  const [bulk, urgent] = priority.results;
  return {
    alone: alone as LoadTestResult,
    noisyFifo: fifo.results[1] as LoadTestResult,
    noisyFair: fair.results[1] as LoadTestResult,
    weightedShareA: okA + okB === 0 ? 0 : okA / (okA + okB),
    quota: {
      a429: quotaA?.totals.byStatus["429"] ?? 0,
      aOk: quotaA?.totals.succeeded ?? 0,
      bRefused: (quotaB?.totals.byStatus["429"] ?? 0) + (quotaB?.totals.byStatus["503"] ?? 0),
      bOk: quotaB?.totals.succeeded ?? 0,
    },
    priority: {
      urgentQueuedMs: urgent?.server.meanQueuedMs ?? null,
      bulkQueuedMs: bulk?.server.meanQueuedMs ?? null,
      bulkOk: bulk?.totals.succeeded ?? 0,
    },
    cost: {
      fifoUs: costFifo.cpuUsPerRequest,
      fairUs: costFair.cpuUsPerRequest,
      fifoRps: costFifo.results[0]?.throughput.succeededPerS ?? 0,
      fairRps: costFair.results[0]?.throughput.succeededPerS ?? 0,
    },
  };
}

/** The figures as a plain-text table (printed, and pasted into docs/benchmarks.md). */
export function fairnessTable(result: FairnessResult): string {
  const b = (run: LoadTestResult) =>
    `p50 ${run.latencyMs.p50Ms.toFixed(0)} ms, ${run.throughput.succeededPerS.toFixed(1)} req/s`;
  const ratio = (run: LoadTestResult) =>
    `${(run.latencyMs.p50Ms / result.alone.latencyMs.p50Ms).toFixed(2)}× p50, ${((100 * run.throughput.succeededPerS) / result.alone.throughput.succeededPerS).toFixed(0)}% throughput of alone`;
  const ms = (value: number | null) => (value === null ? "n/a" : `${value.toFixed(0)} ms`);
  const { quota, priority, cost } = result;
  return [
    "| figure | result |",
    "|---|---|",
    `| B alone (5 connections) | ${b(result.alone)} |`,
    `| B beside A (200 connections), one FIFO | ${b(result.noisyFifo)} (${ratio(result.noisyFifo)}) |`,
    `| B beside A (200 connections), lanes | ${b(result.noisyFair)} (${ratio(result.noisyFair)}) |`,
    `| weights a=3, b=1, both saturating: A's share | ${(100 * result.weightedShareA).toFixed(1)}% |`,
    `| TENANT_MAX_QUEUE_DEPTH=50: A | ${quota.a429} × 429, ${quota.aOk} ok |`,
    `| TENANT_MAX_QUEUE_DEPTH=50: B | ${quota.bRefused} × 429/503, ${quota.bOk} ok |`,
    `| priority under a full u=3 backlog: mean queue wait | u=0 ${ms(priority.urgentQueuedMs)}, u=3 ${ms(priority.bulkQueuedMs)} (${priority.bulkOk} u=3 completed) |`,
    `| 10 tenants at 0 ms, CPU per request (ingress + proxy + redis) | FIFO ${cost.fifoUs.toFixed(0)} µs (${cost.fifoRps.toFixed(0)} req/s), lanes ${cost.fairUs.toFixed(0)} µs (${cost.fairRps.toFixed(0)} req/s) |`,
  ].join("\n");
}
