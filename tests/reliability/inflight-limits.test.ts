import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { holdConnection } from "../helpers/raw-http.ts";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("an ingress holds a bounded number of requests, and of body bytes", () => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 8,
      processingMs: 1,
      ingressEnv: { MAX_INFLIGHT: "3", MAX_BODY_BYTES: "1000000", MAX_INFLIGHT_BYTES: "2100000" },
    });
    port = Number(new URL(stack.ingress.url).port);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const inflightBytes = () => metricValue(stack.ingress.url, "rsd_ingress_inflight_bytes");

  test("beyond MAX_INFLIGHT requests in progress: 503 with Retry-After at once; the others succeed", async () => {
    const slow = Array.from({ length: 3 }, (_, index) =>
      stack.request({ payload: { simulate: { ms: 2000 }, index }, timeoutMs: 10_000 }),
    );
    await waitFor("three requests in progress", async () => {
      return (await metricValue(stack.ingress.url, "rsd_ingress_inflight_requests")) >= 3;
    });
    const refused = await stack.request({ payload: "one too many" });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(String(refused.body.error)).toContain("MAX_INFLIGHT");
    expect((await Promise.all(slow)).map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect((await stack.request({ payload: "room again" })).status).toBe(200);
  });

  test("bodies in progress are bounded by MAX_INFLIGHT_BYTES, and clients that leave halfway give their room back", async () => {
    // Two clients declare nearly a megabyte each and stall after a few bytes.
    const stalled = await Promise.all(
      [1, 2].map(() =>
        holdConnection(
          port,
          'POST /api/requests HTTP/1.1\r\nHost: localhost\r\nContent-Length: 999000\r\n\r\n{"payload":"',
        ),
      ),
    );
    await waitFor("their bodies reserved", async () => (await inflightBytes()) >= 1_998_000);
    const big = await fetch(`${stack.ingress.url}/api/requests`, {
      method: "POST",
      body: JSON.stringify({ payload: "z".repeat(500_000) }),
    });
    expect(big.status).toBe(503);
    expect(((await big.json()) as { error: string }).error).toContain("MAX_INFLIGHT_BYTES");
    expect((await stack.request({ payload: "small fits" })).status).toBe(200);
    for (const connection of stalled) connection.socket.destroy();
    await waitFor("the room given back", async () => (await inflightBytes()) === 0);
    const after = await fetch(`${stack.ingress.url}/api/requests`, {
      method: "POST",
      body: JSON.stringify({ payload: "z".repeat(500_000) }),
    });
    expect(after.status).toBe(200);
  });
});
