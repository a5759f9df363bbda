import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("Redis killed and restarted empty while both services run", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 20 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("requests get 503 quickly during the outage, and succeed again after it without restarts", async () => {
    expect((await stack.request({ payload: "before" })).status).toBe(200);

    await stack.redis.kill();
    // Readiness notices the outage.
    await waitFor(
      "ingress /readyz to fail",
      async () => (await fetch(`${stack.ingress.url}/readyz`)).status === 503,
    );
    await waitFor(
      "proxy /readyz to fail",
      async () => (await fetch(`${stack.proxies[0]!.url}/readyz`)).status === 503,
    );
    for (let index = 0; index < 5; index++) {
      const started = performance.now();
      const { status, body, headers } = await stack.request({ payload: "during", timeoutMs: 10_000 });
      expect(status).toBe(503);
      expect(body.error).toMatch(/Redis is unavailable/);
      expect(headers.get("retry-after")).toBe("1");
      // "Quickly" means without waiting for the 10 s deadline; generous for a loaded machine.
      expect(performance.now() - started).toBeLessThan(2000);
    }

    await stack.redis.startProcess(); // same port, no AOF: an empty Redis
    await stack.ingress.waitReady(20_000);
    await stack.proxies[0]!.waitReady(20_000);
    // The consumer group and the reply stream were recreated by the services themselves.
    const after = await waitFor(
      "a request to succeed after the restart",
      async () => {
        const response = await stack.request({ payload: "after", timeoutMs: 3000 });
        return response.status === 200 ? response : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    expect(after.body.result).toEqual({ echo: "after" });
    const groups = (await stack.redis.client().xinfo("GROUPS", stack.key("requests"))) as unknown[][];
    expect(groups.map((group) => group[1])).toEqual(["proxies"]);
    expect(stack.ingress.exitCode).toBeNull();
    expect(stack.proxies[0]!.exitCode).toBeNull();
  });
});
