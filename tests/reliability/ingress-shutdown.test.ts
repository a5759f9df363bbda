import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("an ingress stopped while requests wait answers them without inviting a duplicate", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 4,
      processingMs: 1,
      ingressEnv: { SHUTDOWN_GRACE_MS: "300" },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("SIGTERM past the grace time: the enqueued requests get 504 (not 503), and still run", async () => {
    const waiting = Array.from({ length: 4 }, (_, index) =>
      stack.request({ payload: { simulate: { ms: 2500 }, index }, timeoutMs: 20_000 }),
    );
    await waitFor("four requests on the terminals", async () => {
      return (await metricValue(stack.proxies[0]!.url, "rsd_proxy_terminals_busy")) >= 4;
    });
    const proxy = stack.proxies[0]!.url;
    const okBefore = await metricValue(proxy, "rsd_proxy_processed_total", { outcome: "ok" }).catch(() => 0);
    await stack.ingress.stop("SIGTERM");
    const answers = await Promise.all(waiting);
    expect(answers.map((answer) => answer.status)).toEqual([504, 504, 504, 504]);
    expect(
      answers.every((answer) => answer.body.status === "timeout" && typeof answer.body.id === "string"),
    ).toBe(true);
    await waitFor("the proxy to finish them all", async () => {
      return (await metricValue(proxy, "rsd_proxy_processed_total", { outcome: "ok" })) >= okBefore + 4;
    });
  });
});
