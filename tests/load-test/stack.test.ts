import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ServiceProcess } from "../helpers/service-process.ts";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { gauge, runCli } from "./run-cli.ts";

// One stack for the whole file: 2 proxies × 5 terminals. A second ingress on the same Redis sheds
// above a queue depth of 2, so the shed path needs no stack of its own.
const TERMINALS = 2 * 5;
let stack: Stack;
let sheddingIngress: ServiceProcess;

// Starting (and stopping) processes takes longer than Bun's 5 s default for hooks.
const HOOK_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  stack = await Stack.start({ proxies: 2, terminals: 5, processingMs: 50, env: { LOG_LEVEL: "warn" } });
  sheddingIngress = await ServiceProcess.start("ingress", { ...stack.baseEnv(), MAX_QUEUE_DEPTH: "2" });
  await waitFor("both proxies in the fleet", async () => {
    const fleet = (await (await fetch(`${stack.ingress.url}/api/fleet`)).json()) as { terminals: number };
    return fleet.terminals === TERMINALS;
  });
}, HOOK_TIMEOUT_MS);

afterAll(async () => {
  await sheddingIngress?.stop("SIGKILL");
  await stack?.stop();
}, HOOK_TIMEOUT_MS);

describe("load tester against a real stack", () => {
  test("sequential 10: all ten succeed and the summary shows the latency percentiles", async () => {
    const run = await runCli(["--url", stack.ingress.url]);
    expect(run.code).toBe(0);
    expect(run.result.totals).toMatchObject({ sent: 10, succeeded: 10, failed: 0 });
    expect(run.result.concurrency.peakInFlight).toBe(1);
    for (const label of ["min", "p50", "p90", "p99", "p99.9", "max"])
      expect(run.stdout).toContain(` ${label} `);
    expect(run.stdout).toContain("PASS");
    // The fleet endpoint gives the theoretical capacity: 10 terminals ÷ 50 ms.
    expect(run.result.server.theoreticalRps).toBe(200);
  });

  test("concurrent 50: the server really sees 50 requests at once, the terminals all busy, and all succeed", async () => {
    const running = runCli([
      "--url",
      stack.ingress.url,
      "--mode",
      "concurrent",
      "--concurrency",
      "50",
      "--count",
      "200",
      "--processing-ms",
      "100",
    ]);
    let ingressPeak = 0;
    const atIngress = waitFor(
      "50 requests in flight at the ingress",
      async () => {
        ingressPeak = Math.max(ingressPeak, await gauge(stack.ingress.url, "rsd_ingress_inflight_requests"));
        return ingressPeak >= 50;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    const atTerminals = waitFor(
      "every terminal busy",
      async () => {
        const busy = await Promise.all(stack.proxies.map((p) => gauge(p.url, "rsd_proxy_terminals_busy")));
        return busy.reduce((a, b) => a + b, 0) === TERMINALS;
      },
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    await Promise.all([atIngress, atTerminals]);
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.result.totals).toMatchObject({ sent: 200, succeeded: 200, failed: 0 });
    expect(run.result.concurrency.peakInFlight).toBe(50);
    // The gauge may also count the /metrics request that reads it.
    expect(ingressPeak).toBeGreaterThanOrEqual(50);
  });

  test("a per-request timeout shorter than the processing is counted as timeouts and fails the run", async () => {
    const run = await runCli([
      "--url",
      stack.ingress.url,
      "--count",
      "3",
      "--processing-ms",
      "1000",
      "--timeout",
      "0.2",
    ]);
    expect(run.code).not.toBe(0);
    expect(run.result.totals).toMatchObject({ sent: 3, succeeded: 0, failed: 3 });
    expect(run.result.totals.byCause).toEqual({ timeout: 3 });
    expect(run.stdout).toContain("timeout");
    expect(run.stdout).toContain("FAIL");
  });

  test("requests shed by an overloaded ingress are counted as 503 (shed)", async () => {
    const run = await runCli([
      "--url",
      sheddingIngress.url,
      "--mode",
      "concurrent",
      "--concurrency",
      "30",
      "--count",
      "60",
      "--processing-ms",
      "300",
    ]);
    expect(run.code).not.toBe(0);
    const shed = run.result.totals.byStatus["503"] ?? 0;
    expect(shed).toBeGreaterThan(0);
    expect(run.result.totals.byCause.shed).toBe(shed);
    expect(run.result.totals.succeeded + shed).toBe(60);
    expect(run.stdout).toContain("shed (503)");
  });
});
