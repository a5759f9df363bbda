import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  BackendPause,
  CircuitBreaker,
  connectRedis,
  createLogger,
  FleetRateLimit,
  type RedisClient,
  StreamKeys,
} from "@rsd/shared";
import { TestRedisCluster } from "../helpers/redis-cluster.ts";

// Each protection is one script on one key, so it runs on a Redis Cluster through the Cluster
// adapter like on one Redis: proven here on a real 3-master cluster.
describe("the protections' scripts on a Redis Cluster", () => {
  let cluster: TestRedisCluster;
  let client: RedisClient;
  const keys = new StreamKeys("clprot");
  beforeAll(async () => {
    cluster = await TestRedisCluster.start(3);
    const [host = "127.0.0.1", port = "0"] = (cluster.seeds.split(",")[0] ?? "").split(":");
    client = connectRedis(
      {
        redisUrl: "redis://127.0.0.1:6379",
        redisTlsCaFile: undefined,
        redisClusterNodes: [{ host, port: Number(port) }],
      },
      { role: "commands", name: "test:cluster-protection", logger: createLogger("error", "test", "cluster") },
    );
    await client.waitUntilReady(20_000);
  }, 90_000);
  afterAll(async () => {
    client?.close();
    await cluster?.destroy();
  }, 60_000);

  test("rate limit, pause and breaker answer on whichever master owns their key", async () => {
    const owners = await Promise.all(
      [keys.rateLimit, keys.backendPause, keys.breaker].map((key) => cluster.nodeOf(key)),
    );
    expect(owners.length).toBe(3);
    const limit = new FleetRateLimit({ client, keys, rps: 1, burst: 3 });
    expect((await limit.take(5)).granted).toBe(3);
    expect((await limit.take(1)).granted).toBe(0);
    const pause = new BackendPause({ client, keys });
    expect(await pause.pause(5000)).toBe(5000);
    expect(await pause.pause(10)).toBeGreaterThan(10);
    expect(await pause.left()).toBeGreaterThan(0);
    const breaker = new CircuitBreaker({ client, keys });
    const thresholds = { failureRatePercent: 50, minCalls: 2, windowMs: 10_000, openMs: 60_000, probes: 1 };
    expect((await breaker.report(0, 2, thresholds)).state).toBe(2);
    expect((await breaker.peek()).state).toBe(2);
  }, 60_000);
});
