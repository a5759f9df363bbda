import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

async function sumOver(stack: Stack, name: string, labels: Record<string, string> = {}): Promise<number> {
  const values = await Promise.all(stack.proxies.map((proxy) => metricValue(proxy.url, name, labels)));
  return values.reduce((sum, value) => sum + value, 0);
}

describe("failures, retries and deadlines", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 2,
      terminals: 1,
      processingMs: 10,
      proxyEnv: { MAX_DELIVERIES: "3" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("a poison request is tried exactly MAX_DELIVERIES times, then 502 and one dead letter", async () => {
    const { status, body } = await stack.request({ payload: { simulate: { fail: true }, tag: "poison" } });
    expect(status).toBe(502);
    expect(body).toEqual({
      id: expect.any(String),
      status: "failed",
      error: expect.stringMatching(/3 attempt/),
    });
    expect(await sumOver(stack, "rsd_proxy_processed_total", { outcome: "error" })).toBe(2);
    expect(await sumOver(stack, "rsd_proxy_processed_total", { outcome: "dead" })).toBe(1);
    const dead = await stack.redis.client().xrange(stack.key("dead"), "-", "+");
    expect(dead).toHaveLength(1);
    const fields = dead[0]![1];
    expect(fields[fields.indexOf("id") + 1]).toBe(body.id as string);
    expect(fields[fields.indexOf("attempts") + 1]).toBe("3");
    expect(fields[fields.indexOf("error") + 1]).toMatch(/simulated failure/);
  });

  test("a request whose deadline passes while queued is never processed, and the client gets 504", async () => {
    const processedBefore = await sumOver(stack, "rsd_proxy_processing_duration_seconds_count");
    // Both terminals busy for 1.5 s…
    const blockers = [1, 2].map(() =>
      stack.request({ payload: { simulate: { ms: 1500 } }, timeoutMs: 10_000 }),
    );
    await waitFor(
      "both terminals to be busy",
      async () => (await sumOver(stack, "rsd_proxy_terminals_busy")) === 2,
    );
    // …so this one waits in the queue past its 200 ms deadline.
    const late = await stack.request({ payload: { marker: "late" }, timeoutMs: 200 });
    expect(late.status).toBe(504);
    expect(late.body).toEqual({ id: expect.any(String), status: "timeout" });
    expect((await Promise.all(blockers)).map((response) => response.status)).toEqual([200, 200]);
    await waitFor(
      "the proxy to answer it expired",
      async () => (await sumOver(stack, "rsd_proxy_processed_total", { outcome: "expired" })) === 1,
    );
    // The handler ran the two blockers and nothing else.
    expect(await sumOver(stack, "rsd_proxy_processing_duration_seconds_count")).toBe(processedBefore + 2);
  });
});
