import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("one long request does not pin the request stream's length", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 4, processingMs: 1 });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("while it runs, hundreds of short requests come and go, and the stream holds about what is pending", async () => {
    const long = stack.request({ payload: { simulate: { ms: 12_000 } }, timeoutMs: 30_000 });
    await waitFor("the long request on a terminal", async () => {
      return (await metricValue(stack.proxies[0]!.url, "rsd_proxy_terminals_busy")) >= 1;
    });
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, index) => stack.request({ payload: index })),
      );
      expect(answers.every((answer) => answer.status === 200)).toBe(true);
    }
    const redis = stack.redis.client();
    // The trimmer runs four times a second: the 300 acknowledged entries behind the long one go.
    // While the long one still runs (it takes 12 s; this wait gives up after 6).
    let finished = false;
    void long.then(() => {
      finished = true;
    });
    await waitFor(
      "the stream to shrink to what is pending",
      async () => (await redis.xlen(stack.key("requests"))) <= 5,
      { timeoutMs: 6000 },
    );
    expect(finished).toBe(false);
    expect((await long).status).toBe(200);
  });
});
