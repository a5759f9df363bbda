import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("dead letters are bounded by count and by age", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 8,
      processingMs: 1,
      env: { MAX_DELIVERIES: "1" },
      proxyEnv: { DEAD_LETTER_MAX_COUNT: "10", DEAD_LETTER_MAX_AGE_S: "60" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("older than DEAD_LETTER_MAX_AGE_S (by Redis's clock): removed; a fresh one stays", async () => {
    const redis = stack.redis.client();
    const [seconds] = await redis.time();
    await redis.xadd(stack.key("dead"), `${(Number(seconds) - 120) * 1000}-0`, "id", "old", "error", "x");
    const { body } = await stack.request({ payload: { simulate: { fail: true } } });
    await waitFor("the old dead letter to go", async () => {
      const ids = (await redis.xrange(stack.key("dead"), "-", "+")).map(([, fields]) => fields[1]);
      return !ids.includes("old") && ids.includes(body.id as string);
    });
  });

  test("DEAD_LETTER_MAX_COUNT caps the stream (approximately: a stream node of 100 entries at most over)", async () => {
    for (let round = 0; round < 6; round++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, () => stack.request({ payload: { simulate: { fail: true } } })),
      );
      expect(answers.every((answer) => answer.status === 502)).toBe(true);
    }
    expect(await stack.redis.client().xlen(stack.key("dead"))).toBeLessThanOrEqual(110);
  });
});
