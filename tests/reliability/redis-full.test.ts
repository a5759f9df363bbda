import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(90_000);

/** The request id in a request-stream or dead-letter entry (`m` metadata first word, or `id`). */
function requestIdOf(fields: string[]): string | undefined {
  if (fields[0] === "m") return fields[1]?.split(" ")[0];
  const at = fields.indexOf("id");
  return at >= 0 ? fields[at + 1] : undefined;
}

describe("a full Redis (maxmemory, noeviction) loses no request", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 4,
      processingMs: 1,
      env: { MAX_DELIVERIES: "2", CLAIM_IDLE_MS: "500" },
      ingressEnv: { MAX_QUEUE_DEPTH: "0", MAX_BODY_BYTES: "2097152" },
      redis: { args: ["--maxmemory", "40mb", "--maxmemory-policy", "noeviction"] },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("every accepted poison request ends in the dead letters, even when their writes first failed with OOM", async () => {
    // The proxy has created the consumer group; it stops while the test fills Redis, so the
    // next proxy's writes meet a full Redis whatever the machine's speed. (With a proxy running
    // throughout, a fast one could drain the stream into dead letters before Redis ever filled,
    // and nothing would be refused: that is how this test once failed in CI.)
    await stack.proxies.shift()!.stop();
    const pad = "x".repeat(900 * 1024);
    const accepted: string[] = [];
    for (let index = 0; index < 50; index++) {
      const { status, body } = await stack.request(
        { payload: { simulate: { fail: true }, index, pad } },
        { prefer: "respond-async" },
      );
      if (status === 202) accepted.push(body.id as string);
      else expect(status).toBe(503);
    }
    expect(accepted.length).toBeGreaterThan(0);
    const redis = stack.redis.client();
    // Full for good: below what Redis already holds, so every write that needs room is refused
    // with OOM (noeviction). Then a proxy starts on the queued poison requests: it must still
    // read them (XREADGROUP is allowed on a full Redis, XGROUP CREATE is not).
    const usedMemory = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))![1]);
    await redis.config("SET", "maxmemory", String(usedMemory - 1024 * 1024));
    await stack.startProxy("proxy-2");
    const whereabouts = async () => {
      const dead = new Set((await redis.xrange(stack.key("dead"), "-", "+")).map(([, f]) => requestIdOf(f)));
      const queued = new Set(
        (await redis.xrange(stack.key("requests"), "-", "+")).map(([, f]) => requestIdOf(f)),
      );
      return { dead, queued };
    };
    // While Redis is full, an accepted request is either dead-lettered or still in the stream
    // (pending or waiting): never acknowledged without its dead letter.
    // Redis refused some of the proxy's writes (dead letters of 900 KB do not fit).
    await waitFor(
      "Redis to refuse a batch of the proxy's writes",
      async () => (await metricValue(stack.proxies[0]!.url, "rsd_proxy_reply_write_failures_total")) > 0,
      { timeoutMs: 30_000 },
    );
    const during = await whereabouts();
    expect(accepted.filter((id) => !during.dead.has(id) && !during.queued.has(id))).toEqual([]);
    // Room again: every one of them reaches the dead letters.
    await redis.config("SET", "maxmemory", "0");
    await waitFor(
      "every accepted request in the dead letters",
      async () => {
        const { dead } = await whereabouts();
        return accepted.every((id) => dead.has(id));
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  });
});
