import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("logs and W3C trace context", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 5 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("a traceparent sent in comes back with the same trace id and is in both services' log lines", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const sent = `00-${traceId}-00f067aa0ba902b7-01`;
    const { status, body, headers } = await stack.request(
      { payload: { traced: true } },
      { traceparent: sent },
    );
    expect(status).toBe(200);
    const returned = headers.get("traceparent") ?? "";
    expect(returned.split("-")[1]).toBe(traceId);
    // The ingress is a hop: same trace, its own span.
    expect(returned).not.toBe(sent);

    const forRequest = (lines: Record<string, unknown>[]) =>
      lines.filter((line) => line.requestId === body.id);
    const ingressLines = await waitFor("the ingress's outcome line", () => {
      const lines = forRequest(stack.ingress.logs());
      return lines.length > 0 ? lines : undefined;
    });
    const proxyLines = await waitFor("the proxy's outcome line", () => {
      const lines = forRequest(stack.proxies[0]!.logs());
      return lines.length > 0 ? lines : undefined;
    });
    for (const line of [...ingressLines, ...proxyLines]) {
      expect(line).toMatchObject({ level: "info", traceId, requestId: body.id });
      expect(typeof line.time).toBe("string");
      expect(typeof line.service).toBe("string");
      expect(typeof line.pod).toBe("string");
    }
    expect(ingressLines[0]).toMatchObject({ service: "ingress", outcome: "completed" });
    expect(proxyLines[0]).toMatchObject({ service: "proxy", pod: "proxy-1", outcome: "ok" });
  });

  test("without a traceparent the ingress starts a trace; an invalid one is replaced", async () => {
    const fresh = await stack.request({ payload: 1 });
    expect(fresh.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const invalid = await stack.request({ payload: 1 }, { traceparent: "00-000-bad" });
    expect(invalid.status).toBe(200);
    expect(invalid.headers.get("traceparent")).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test("payload contents never appear in info logs", async () => {
    const secret = `card-${Date.now()}`;
    await stack.request({ payload: { secret } });
    await waitFor("the proxy to log the request", () =>
      stack.proxies[0]!.output.some((line) => line.includes('"msg":"request processed"')),
    );
    for (const line of [...stack.ingress.output, ...stack.proxies[0]!.output])
      expect(line).not.toContain(secret);
  });
});
