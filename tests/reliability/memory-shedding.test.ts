import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("the ingress sheds on Redis memory as well as on depth", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      processingMs: 1,
      ingressEnv: { MAX_REDIS_MEMORY_PERCENT: "50" },
      redis: { args: ["--maxmemory", "40mb", "--maxmemory-policy", "noeviction"] },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("past MAX_REDIS_MEMORY_PERCENT of maxmemory: 503 with Retry-After before touching Redis; below it: served", async () => {
    expect((await stack.request({ payload: "room" })).status).toBe(200);
    // Fill Redis past half of its 40 MB with keys of the operator's, not the gateway's.
    const redis = stack.redis.client();
    const chunk = "x".repeat(3 * 1024 * 1024);
    for (let index = 0; index < 8; index++) await redis.set(`ballast:${index}`, chunk);
    const shed = await waitFor("a request shed on memory", async () => {
      const answer = await stack.request({ payload: "no room" });
      return answer.status === 503 ? answer : undefined;
    });
    expect(shed.headers.get("retry-after")).toBe("1");
    expect(String(shed.body.error)).toMatch(/Redis is \d+% full/);
    expect(
      await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "memory" }),
    ).toBeGreaterThan(0);
    const before = await stack.entriesAdded();
    expect((await stack.request({ payload: "still no room" })).status).toBe(503);
    expect(await stack.entriesAdded()).toBe(before);
    for (let index = 0; index < 8; index++) await redis.del(`ballast:${index}`);
    await waitFor(
      "requests served again",
      async () => (await stack.request({ payload: "room" })).status === 200,
    );
  });
});
