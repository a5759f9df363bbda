import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("Redis with appendonly restarted mid-load", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 2, terminals: 2, processingMs: 100, redis: { appendonly: true } });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("every request is answered clearly, none hangs, and persisted requests are still processed", async () => {
    // Async requests queued before the restart: 20 × 100 ms over 4 terminals keeps some waiting.
    const queued = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        stack.request({ payload: { queued: index } }, { prefer: "respond-async" }),
      ),
    );
    expect(queued.map((response) => response.status)).toEqual(Array(20).fill(202));
    // Synchronous load across the restart.
    const inFlight = Array.from({ length: 40 }, async (_, index) => {
      const started = performance.now();
      const response = await stack.request({ payload: { sync: index }, timeoutMs: 8000 });
      return { ...response, ms: performance.now() - started };
    });
    await stack.redis.restart();
    const answers = await Promise.all(inFlight);
    for (const answer of answers) {
      expect([200, 503, 504]).toContain(answer.status);
      if (answer.status === 503) expect(answer.body.error).toMatch(/unavailable|shutting down/);
      if (answer.status === 504) expect(answer.body.status).toBe("timeout");
      // Bounded by the request's own deadline (plus scheduling slack), never hung.
      expect(answer.ms).toBeLessThan(8000 + 2000);
    }
    // The services recover by themselves…
    await stack.ingress.waitReady(20_000);
    for (const proxy of stack.proxies) await proxy.waitReady(20_000);
    const after = await waitFor("a request to succeed after the restart", async () => {
      const response = await stack.request({ payload: "after", timeoutMs: 3000 });
      return response.status === 200 ? response : undefined;
    });
    expect(after.body.result).toEqual({ echo: "after" });
    // …and every request accepted before the restart was persisted and gets processed.
    for (const accepted of queued) {
      const outcome = await waitFor(
        `request ${accepted.body.id} to complete`,
        async () => {
          const response = await fetch(`${stack.ingress.url}${accepted.headers.get("location")}`);
          return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(outcome.status).toBe("completed");
    }
  });
});
