import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { maxPauseMs, retryAfterMs } from "../../proxy/src/handlers/retry-after.ts";
import { metricValue } from "../helpers/stack.ts";
import { countOf, drive, fragileStack, stopAfterAll } from "./support.ts";

setDefaultTimeout(120_000);

describe("Retry-After", () => {
  test("seconds, an HTTP date, and nonsense", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs("2", now)).toBe(2000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Thu, 01 Jan 2026 00:00:03 GMT", now)).toBe(3000);
    expect(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now)).toBe(0);
    expect(retryAfterMs("99999999", now)).toBe(maxPauseMs);
    for (const bad of ["-1", "1.5", "soon", "", "1e3"]) expect(retryAfterMs(bad, now)).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});

describe("BACKEND_PAUSE against a real backend's 429 storm", () => {
  const stops = stopAfterAll();

  test("the fleet pauses, meets the storm with a few calls, dead-letters nothing and answers everything", async () => {
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "1000", "--base-ms", "10", "--noise", "0"],
      {
        proxies: 2,
        terminals: 4,
        // One delivery: a 429 that burnt an attempt would dead-letter the request at once.
        proxyEnv: { BACKEND_PAUSE: "on", MAX_DELIVERIES: "1" },
      },
    );
    stops.push(stop);
    expect((await backend.admin("throttle", { ms: 3000, retryAfterS: 2 })).status).toBe(200);
    const forwarded = Array.from({ length: 5 }, (_, index) =>
      fetch(`${stack.ingress.url}/proxy/item/${index}`, {
        method: "POST",
        headers: { "x-timeout-ms": "30000" },
        body: "x",
      }).then((response) => response.status),
    );
    const statuses = await drive(stack, { count: 60, connections: 20, timeoutMs: 30_000 });
    expect(countOf(statuses, 200)).toBe(60);
    expect(await Promise.all(forwarded)).toEqual([200, 200, 200, 200, 200]);
    expect(await stack.redis.client().xlen(stack.key("dead"))).toBe(0);
    const stats = await backend.stats();
    // The first wave (at most every terminal, 8) and then about one probe per pod per pause.
    expect(stats.byKind.throttled).toBeGreaterThanOrEqual(1);
    expect(stats.byKind.throttled).toBeLessThanOrEqual(20);
    expect(stats.byKind.ok).toBe(65);
    let pauses = 0;
    for (const proxy of stack.proxies)
      pauses += await metricValue(proxy.url, "rsd_proxy_backend_pauses_total");
    expect(pauses).toBe(stats.byKind.throttled);
  });

  test("off (the default): a forwarded request's 429 is the client's answer, as before", async () => {
    const { stack, backend, stop } = await fragileStack(["--knee", "1000", "--base-ms", "1"], { proxies: 1 });
    stops.push(stop);
    await backend.admin("throttle", { ms: 60_000, retryAfterS: 7 });
    const response = await fetch(`${stack.ingress.url}/proxy/x`, { method: "POST", body: "x" });
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("7");
    expect(await metricValue(stack.proxies[0]?.url as string, "rsd_proxy_backend_pauses_total")).toBe(0);
  });
});
