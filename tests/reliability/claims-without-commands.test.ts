import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("a pod cut off from its command connection still keeps its claims", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 1, env: { CLAIM_IDLE_MS: "600" } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("its long request is not taken over by another pod: processed once, answered once", async () => {
    const answer = stack.request({ payload: { simulate: { ms: 4000 } }, timeoutMs: 20_000 });
    await waitFor("the request on proxy-1's terminal", async () => {
      return (await metricValue(stack.proxies[0]!.url, "rsd_proxy_terminals_busy")) >= 1;
    });
    const other = await stack.startProxy("proxy-2");
    // Cut proxy-1's ioredis connection (claims, reclaims, trims) and keep it from coming back: no
    // room for new clients, while every connection already open (its reply connection) stays.
    const redis = stack.redis.client();
    const list = (await redis.client("LIST")) as string;
    await redis.config("SET", "maxclients", String(list.trim().split("\n").length - 1));
    try {
      for (const match of list.matchAll(/id=(\d+) .*name=proxy:proxy-1:commands /g))
        await redis.client("KILL", "ID", match[1] as string);
      const { status } = await answer;
      expect(status).toBe(200);
    } finally {
      await redis.config("SET", "maxclients", "10000");
    }
    expect(await metricValue(other.url, "rsd_proxy_reclaimed_total")).toBe(0);
    expect(await metricValue(other.url, "rsd_proxy_processed_total")).toBe(0);
  });
});
