import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { attemptSpanId } from "@rsd/shared/tracing";
import { OtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.ts";
import { Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait has its own deadline).
setDefaultTimeout(60_000);

const receiver = new OtlpReceiver();
const upstream = new TestUpstream();
let stack: Stack | undefined;

afterAll(async () => {
  await stack?.stop();
  upstream.stop();
  receiver.stop();
});

test("a request reclaimed from a killed proxy: attempt 2 links to attempt 1, which its pod never exported", async () => {
  stack = await Stack.start({
    proxies: 2,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200", CLAIM_IDLE_MS: "500" },
    proxyEnv: { HANDLER: "http", UPSTREAM_URL: upstream.url },
  });
  const running = stack;
  const traceId = "5bf92f3577b34da6a3ce929d0e0e4736";
  const answer = fetch(`${running.ingress.url}/proxy/slow?ms=2000`, {
    headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-timeout-ms": "30000" },
  });
  // Attempt 1 is at the backend: kill the proxy holding it, before its attempt span can end.
  await waitFor("attempt 1 at the backend", () => upstream.inFlight >= 1, { timeoutMs: 20_000 });
  const pending = (await running.redis
    .client()
    .xpending(running.key("requests"), "proxies", "-", "+", 10)) as [string, string, number, number][];
  const holder = running.proxies.find((proxy) => proxy.env.POD_NAME === pending[0]?.[1]);
  expect(holder).toBeDefined();
  await holder?.stop("SIGKILL");

  const response = await answer;
  expect(response.status).toBe(200);
  const isAttempt = (span: ReceivedSpan) => span.name.startsWith("process ");
  await waitFor("the reclaimed attempt's span", () => receiver.trace(traceId).some(isAttempt), {
    timeoutMs: 20_000,
  });
  const attempts = receiver.trace(traceId).filter(isAttempt);
  expect(attempts).toHaveLength(1);
  const second = attempts[0] as ReceivedSpan;
  expect(second.attributes["rsd.attempt"]).toBe(2);
  expect(second.attributes["rsd.pod"]).not.toBe(pending[0]?.[1] as string);
  const first = attemptSpanId(String(second.attributes["rsd.request.id"]), 1);
  expect(second.links).toEqual([{ traceId, spanId: first }]);
  expect(receiver.spans.some((span) => span.spanId === first)).toBe(false);
});
