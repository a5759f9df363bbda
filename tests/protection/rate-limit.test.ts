import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { FleetRateLimit, type RedisClient, StreamKeys } from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";
import { waitFor } from "../helpers/wait.ts";
import { countOf, drive, fragileStack, groupCounts, protocolClient, stopAfterAll } from "./support.ts";

setDefaultTimeout(120_000);

describe("the fleet rate limit's script (GCRA on one key, Redis's clock)", () => {
  let redis: TestRedis;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await TestRedis.start();
    client = protocolClient(redis, "rate");
    await client.waitUntilReady(10_000);
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await redis?.destroy();
  });

  test("grants at most the burst at once, then names the wait; given-back tokens can be taken again", async () => {
    const keys = new StreamKeys("rate1");
    // One token a second: nothing below refills during the test.
    const limit = new FleetRateLimit({ client, keys, rps: 1, burst: 5 });
    expect((await limit.take(10)).granted).toBe(5);
    const refused = await limit.take(1);
    expect(refused.granted).toBe(0);
    expect(refused.waitMs).toBeGreaterThan(0);
    expect(refused.waitMs).toBeLessThanOrEqual(1000);
    await limit.giveBack(3);
    expect((await limit.take(5)).granted).toBe(3);
    // One key, with a TTL: it never outlives the budget it describes.
    expect(await redis.client().pttl(keys.rateLimit)).toBeGreaterThan(0);
  });

  test("two clients share one budget", async () => {
    const keys = new StreamKeys("rate2");
    const a = new FleetRateLimit({ client, keys, rps: 1, burst: 4 });
    const b = new FleetRateLimit({ client, keys, rps: 1, burst: 4 });
    const grants = await Promise.all([a.take(3), b.take(3), a.take(3)]);
    expect(grants.reduce((sum, grant) => sum + grant.granted, 0)).toBe(4);
  });
});

describe("RATE_LIMIT_RPS against a real backend", () => {
  const stops = stopAfterAll();

  test("two proxies together stay within the rate; waiting requests stay unread in Redis", async () => {
    const rps = 40;
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "1000", "--base-ms", "5", "--noise", "0"],
      {
        proxies: 2,
        terminals: 8,
        proxyEnv: { RATE_LIMIT_RPS: String(rps), RATE_LIMIT_BURST: "1" },
      },
    );
    stops.push(stop);
    const run = drive(stack, { count: 240, connections: 120, timeoutMs: 60_000 });
    // While the budget holds them back, the requests wait as lag (never delivered), not in a pod.
    await waitFor(
      "requests waiting unread in the stream",
      async () => {
        const { lag, pending } = await groupCounts(stack);
        return lag >= 50 && pending <= 16;
      },
      { timeoutMs: 30_000 },
    );
    const statuses = await run;
    expect(countOf(statuses, 200)).toBe(240);
    const stats = await backend.stats();
    expect(stats.calls).toBe(240);
    // Every whole second but the first and the last: within the rate (+ the burst, + one call
    // of slack for the time between a grant and its arrival at the backend on a loaded machine).
    const seconds = stats.perSecond.slice(1, -1);
    expect(seconds.length).toBeGreaterThanOrEqual(3);
    for (const [, calls] of seconds) expect(calls).toBeLessThanOrEqual(rps * 1.05 + 1 + 1);
  });
});
