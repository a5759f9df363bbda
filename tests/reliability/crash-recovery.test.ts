import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

const total = 500;

/** Fires `total` requests at once and, once `killAfter` have been answered, stops proxy-1 with `signal`. */
async function runWithProxyStopped(stack: Stack, signal: NodeJS.Signals, killAfter: number) {
  let answered = 0;
  let stopped: Promise<{ code: number; ms: number }> | undefined;
  const responses = await Promise.all(
    Array.from({ length: total }, async (_, index) => {
      const response = await stack.request({ payload: { index }, timeoutMs: 30_000 });
      if (++answered === killAfter) {
        const started = performance.now();
        stopped = stack.proxies[0]!.stop(signal).then((code) => ({ code, ms: performance.now() - started }));
      }
      return response;
    }),
  );
  return { responses, stopped: await stopped };
}

async function pendingOf(stack: Stack, consumer: string): Promise<number> {
  const consumers = (await stack.redis
    .client()
    .xinfo("CONSUMERS", stack.key("requests"), "proxies")) as unknown[][];
  const entry = consumers.find((info) => info[1] === consumer);
  return entry ? Number(entry[3]) : 0;
}

describe("no request is lost when a proxy dies", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
  }, 60_000);

  test("SIGKILL mid-run: all 500 get 200, each answered once, the dead consumer owns nothing", async () => {
    stack = await Stack.start({
      proxies: 2,
      terminals: 5,
      processingMs: 50,
      proxyEnv: { CLAIM_IDLE_MS: "300" },
    });
    const { responses, stopped } = await runWithProxyStopped(stack, "SIGKILL", 100);
    expect(stopped?.code).not.toBe(0);
    expect(responses.filter((response) => response.status !== 200)).toEqual([]);
    const ids = new Set(responses.map((response) => response.body.id));
    expect(ids.size).toBe(total);
    const echoes = responses.map(
      (response) => (response.body.result as { echo: { index: number } }).echo.index,
    );
    expect(echoes).toEqual(Array.from({ length: total }, (_, index) => index));
    // The survivor took over what the dead one held.
    expect(await metricValue(stack.proxies[1]!.url, "rsd_proxy_reclaimed_total")).toBeGreaterThan(0);
    await waitFor(
      "the dead consumer's pending list to be empty",
      async () => (await pendingOf(stack!, "proxy-1")) === 0,
    );
  });

  test("SIGTERM mid-run: all 500 get 200 and the proxy exits 0 within its grace time", async () => {
    stack = await Stack.start({
      proxies: 2,
      terminals: 5,
      processingMs: 50,
      proxyEnv: { CLAIM_IDLE_MS: "300", SHUTDOWN_GRACE_MS: "5000" },
    });
    const { responses, stopped } = await runWithProxyStopped(stack, "SIGTERM", 100);
    expect(stopped?.code).toBe(0);
    expect(stopped?.ms).toBeLessThan(5000 + 2000);
    expect(responses.filter((response) => response.status !== 200)).toEqual([]);
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(total);
    // A graceful stop finishes its own work: nothing was left for others to reclaim.
    expect(await pendingOf(stack, "proxy-1")).toBe(0);
    const log = stack.proxies[0]!.logs().map((line) => line.msg);
    expect(log).toContain("shutting down");
    expect(log).toContain("stopped");
  });
});
