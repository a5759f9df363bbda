import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { CircuitBreaker, type RedisClient, StreamKeys } from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";
import { metricValue } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { countOf, drive, fragileStack, groupCounts, protocolClient, stopAfterAll } from "./support.ts";

setDefaultTimeout(120_000);

const thresholds = { failureRatePercent: 50, minCalls: 4, windowMs: 10_000, openMs: 300, probes: 2 };

describe("the breaker's script (one hash, Redis's clock)", () => {
  let redis: TestRedis;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await TestRedis.start();
    client = protocolClient(redis, "breaker");
    await client.waitUntilReady(10_000);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await redis?.destroy();
  });

  test("closed → open on the failure rate after the minimum calls → half-open → closed by probes", async () => {
    const breaker = new CircuitBreaker({ client, keys: new StreamKeys("b1") });
    expect((await breaker.report(0, 3, thresholds)).state).toBe(0); // under the minimum calls
    const opened = await breaker.report(1, 0, thresholds);
    expect(opened.state).toBe(2);
    expect(opened.leftMs).toBeGreaterThan(0);
    expect(opened.leftMs).toBeLessThanOrEqual(300);
    expect((await breaker.probe(5, 2)).granted).toBe(0);
    await waitFor("half-open", async () => (await breaker.read()).state === 1, { timeoutMs: 10_000 });
    const probes = await breaker.probe(5, 2);
    expect(probes.granted).toBeLessThanOrEqual(2);
    expect(probes.granted).toBeGreaterThanOrEqual(1);
    // A probe whose request had expired goes back and can be granted again (within the second).
    await breaker.giveBack(1);
    expect((await breaker.probe(1, 2)).granted).toBeLessThanOrEqual(1);
    // A failed probe opens it again; two good ones close it.
    expect((await breaker.report(0, 1, thresholds)).state).toBe(2);
    await waitFor("half-open again", async () => (await breaker.read()).state === 1, { timeoutMs: 10_000 });
    expect((await breaker.report(1, 0, thresholds)).state).toBe(1);
    expect((await breaker.report(1, 0, thresholds)).state).toBe(0);
  });

  test("a healthy failure rate keeps it closed", async () => {
    const breaker = new CircuitBreaker({ client, keys: new StreamKeys("b2") });
    expect((await breaker.report(90, 10, thresholds)).state).toBe(0);
  });
});

describe("BREAKER=on against a real backend", () => {
  const stops = stopAfterAll();

  test("while open, queued requests wait unread without burning attempts, then all succeed", async () => {
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "1000", "--base-ms", "5", "--noise", "0"],
      {
        proxies: 2,
        terminals: 4,
        // Only the proxies: the ingress keeps accepting, so requests queue behind the open breaker.
        proxyEnv: { BREAKER: "on", BREAKER_OPEN_MS: "3000", BREAKER_PROBES: "2", MAX_DELIVERIES: "1" },
      },
    );
    stops.push(stop);
    const client = protocolClient(stack.redis, "breaker");
    await client.waitUntilReady(10_000);
    const breaker = new CircuitBreaker({ client, keys: new StreamKeys(stack.prefix) });
    expect((await breaker.report(0, 100, { ...thresholds, openMs: 3000 })).state).toBe(2);
    await waitFor("every proxy to see it open", async () => {
      for (const proxy of stack.proxies)
        if ((await metricValue(proxy.url, "rsd_breaker_state")) !== 2) return false;
      return true;
    });
    const before = (await backend.stats()).calls;
    const run = drive(stack, { count: 20, connections: 20, timeoutMs: 30_000 });
    const admin = stack.redis.client();
    // A read already blocked in XREADGROUP when the breaker opened takes what arrives first: at
    // most one read's worth per pod (4 terminals each). Everything else waits unread.
    await waitFor("the requests to wait unread", async () => (await groupCounts(stack)).lag >= 20 - 2 * 4);
    if ((await breaker.read()).state === 2)
      expect((await backend.stats()).calls - before).toBeLessThanOrEqual(2 * 4);
    const statuses = await run;
    client.close();
    expect(countOf(statuses, 200)).toBe(20);
    expect(await admin.xlen(stack.key("dead"))).toBe(0);
  });

  test("an outage opens it fleet-wide: the ingress answers 503 + Retry-After, the backend sees few calls, recovery closes it", async () => {
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "1000", "--base-ms", "5", "--noise", "0"],
      {
        proxies: 2,
        terminals: 4,
        env: { BREAKER: "on", BREAKER_MIN_CALLS: "5", BREAKER_OPEN_MS: "1000", BREAKER_PROBES: "2" },
      },
    );
    stops.push(stop);
    await backend.admin("outage", { ms: 600_000 });
    // Failures until the ingress refuses: json requests meeting a 500 fail at once (502).
    const refused = await waitFor(
      "the ingress to refuse with the breaker open",
      async () => {
        const answer = await stack.request({ payload: 1, timeoutMs: 1000 });
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 5 },
    );
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(String(refused.body.error)).toContain("circuit breaker");
    expect(
      await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "breaker" }),
    ).toBeGreaterThanOrEqual(1);
    // While the outage lasts, the fleet only probes: count the backend's calls over ~3 open periods.
    const start = (await backend.stats()).calls;
    let refusals = 0;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      // A request let in while half-open waits in the queue up to its deadline: keep it short.
      const answer = await stack.request({ payload: 2, timeoutMs: 1000 });
      if (answer.status === 503) refusals++;
      await Bun.sleep(50);
    }
    const during = (await backend.stats()).calls - start;
    expect(refusals).toBeGreaterThanOrEqual(1);
    // Probes (2 a second, fleet-wide) plus the requests the ingress let in while half-open.
    expect(during).toBeLessThanOrEqual(30);
    await backend.admin("outage", { ms: 0 });
    await waitFor(
      "a request to succeed after recovery",
      async () => (await stack.request({ payload: 3, timeoutMs: 2000 })).status === 200,
      {
        timeoutMs: 30_000,
        intervalMs: 100,
      },
    );
    // Half-open closes after BREAKER_PROBES good probes: keep some traffic going until it does.
    await waitFor(
      "the breaker to close",
      async () => {
        await stack.request({ payload: 4, timeoutMs: 2000 });
        return (await metricValue(stack.ingress.url, "rsd_breaker_state")) === 0;
      },
      { timeoutMs: 30_000, intervalMs: 50 },
    );
  });
});
