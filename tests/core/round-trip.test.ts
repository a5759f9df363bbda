import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("the core pipeline, with two proxies of five terminals", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 2, terminals: 5, processingMs: 50 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("a request round-trips: 200 with the echo and where and how long it ran", async () => {
    const payload = { hello: "world", n: [1, 2, 3], nested: { ok: true } };
    const { status, body, headers } = await stack.request({ payload });
    expect(status).toBe(200);
    expect(body.status).toBe("completed");
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(body.result).toEqual({ echo: payload });
    expect(["proxy-1", "proxy-2"]).toContain(body.pod as string);
    expect(body.terminal as number).toBeGreaterThanOrEqual(0);
    expect(body.terminal as number).toBeLessThan(5);
    expect(body.processingMs as number).toBeGreaterThanOrEqual(50);
    expect(body.queuedMs as number).toBeGreaterThanOrEqual(0);
    expect(body.totalMs as number).toBeGreaterThanOrEqual(body.processingMs as number);
    expect(headers.get("content-type")).toContain("application/json");
    expect(headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test("any JSON value is a payload, null included", async () => {
    for (const payload of [null, 0, "text", [1, "two"], { deep: { deeper: { deepest: [] } } }]) {
      const { status, body } = await stack.request({ payload, timeoutMs: 5000 });
      expect(status).toBe(200);
      expect(body.result).toEqual({ echo: payload });
    }
  });

  test("a payload near MAX_BODY_BYTES (1 MiB), with every kind of character, comes back intact", async () => {
    // Multi-byte UTF-8, escapes, spaces and the words the stream encoding separates with.
    const piece = 'ünïcødé 🚀 "quoted" \\ back\\slash | m payload result - \t tab \n line ';
    const text = piece.repeat(Math.floor((1024 * 1024 - 200) / Buffer.byteLength(JSON.stringify(piece))));
    const redis = stack.redis.client();
    const gets = async () =>
      Number(/cmdstat_get:calls=(\d+)/.exec(await redis.info("commandstats"))?.[1] ?? 0);
    const getsBefore = await gets();
    const { status, body } = await stack.request({ payload: { text }, timeoutMs: 10_000 });
    expect(status).toBe(200);
    expect((body.result as { echo: { text: string } }).echo.text).toBe(text);
    // A result that large does not travel on the reply stream (whose reads are bounded in bytes):
    // the ingress read it from a key of its own, and deleted the key.
    expect(await gets()).toBeGreaterThan(getsBefore);
    expect(await redis.keys(stack.key("body:*"))).toEqual([]);
  });

  test("200 concurrent requests all succeed, and never more than 2 × 5 run at once", async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, index) => stack.request({ payload: { index }, timeoutMs: 20_000 })),
    );
    expect(responses.map((response) => response.status)).toEqual(Array(200).fill(200));
    expect(
      responses.map((response) => (response.body.result as { echo: { index: number } }).echo.index),
    ).toEqual(Array.from({ length: 200 }, (_, index) => index));
    // Each proxy measures how many handler calls ever ran at once inside it.
    const peaks = await Promise.all(
      stack.proxies.map((proxy) => metricValue(proxy.url, "rsd_proxy_handler_concurrency_max")),
    );
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(5);
    expect(peaks.reduce((sum, peak) => sum + peak, 0)).toBeLessThanOrEqual(10);
    // 200 requests against 10 terminals keep them full: the cap is reached, not just respected.
    expect(Math.max(...peaks)).toBe(5);
    const slots = new Set(responses.map((response) => `${response.body.pod}/${response.body.terminal}`));
    expect(slots.size).toBeLessThanOrEqual(10);
  });

  test("a timeoutMs shorter than the processing time gets 504 with the id, at the deadline", async () => {
    const started = performance.now();
    const { status, body } = await stack.request({ payload: { simulate: { ms: 2000 } }, timeoutMs: 300 });
    const elapsed = performance.now() - started;
    expect(status).toBe(504);
    expect(body).toEqual({ id: expect.any(String), status: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(295);
    // Generous bound for a shared 2-core machine; the sweep itself fires within 10 ms.
    expect(elapsed).toBeLessThan(1300);
  });

  test("the ingress's metrics count answers by status", async () => {
    expect(
      await metricValue(stack.ingress.url, "rsd_ingress_requests_total", { status: "200" }),
    ).toBeGreaterThan(0);
    expect(
      await metricValue(stack.ingress.url, "rsd_ingress_requests_total", { status: "504" }),
    ).toBeGreaterThan(0);
    expect(await metricValue(stack.ingress.url, "rsd_ingress_inflight_requests")).toBe(0);
  });
});
