import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("load shedding at the ingress", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 1,
      processingMs: 100,
      ingressEnv: { MAX_QUEUE_DEPTH: "3" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("beyond MAX_QUEUE_DEPTH the excess gets 503 + Retry-After at once, the rest succeed", async () => {
    // A first wave fills the queue (one terminal, 100 ms each: it drains slowly).
    const accepted = Array.from({ length: 12 }, (_, index) =>
      stack.request({ payload: { wave: 1, index }, timeoutMs: 20_000 }),
    );
    await waitFor(
      "the ingress to see the lag over the limit",
      async () => (await metricValue(stack.ingress.url, "rsd_stream_lag")) > 3,
    );
    const shedTimes: number[] = [];
    const excess = await Promise.all(
      Array.from({ length: 10 }, async (_, index) => {
        const started = performance.now();
        const response = await stack.request({ payload: { wave: 2, index }, timeoutMs: 20_000 });
        if (response.status === 503) shedTimes.push(performance.now() - started);
        return response;
      }),
    );
    for (const response of excess) {
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("1");
      expect(response.body.error).toMatch(/overloaded/);
    }
    // Shedding answers without touching Redis: far quicker than one request's processing.
    expect(Math.max(...shedTimes)).toBeLessThan(100);
    const first = await Promise.all(accepted);
    expect(first.map((response) => response.status)).toEqual(Array(12).fill(200));
    expect(await metricValue(stack.ingress.url, "rsd_ingress_shed_total")).toBe(10);
    // Nothing of the shed wave reached the stream.
    const entries = await stack.redis.client().xrange(stack.key("requests"), "-", "+");
    expect(entries.some(([, fields]) => fields.join(" ").includes('"wave":2'))).toBe(false);
  });
});
