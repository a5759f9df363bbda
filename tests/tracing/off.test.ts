import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait has its own deadline).
setDefaultTimeout(60_000);

const upstream = new TestUpstream();
/** A plain TCP listener: any exporter that tried to send would at least connect. */
let connections = 0;
const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    open() {
      connections++;
    },
    data() {},
  },
});
let stack: Stack | undefined;

afterAll(async () => {
  await stack?.stop();
  listener.stop(true);
  upstream.stop();
});

test("tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT): nothing is exported, not one connection, traceparent still propagated", async () => {
  // Variables an SDK would act on if it were loaded: with the endpoint unset it is not.
  const otel = {
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${listener.port}/v1/traces`,
    OTEL_TRACES_SAMPLER: "always_on",
  };
  stack = await Stack.start({
    proxies: 1,
    env: otel,
    proxyEnv: { HANDLER: "http", UPSTREAM_URL: upstream.url },
  });
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const answer = await stack.request({ payload: 1 }, { traceparent: `00-${traceId}-00f067aa0ba902b7-01` });
  expect(answer.status).toBe(200);
  const forwarded = await fetch(`${stack.ingress.url}/proxy/echo`, {
    headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  });
  expect(forwarded.status).toBe(200);
  // As before tracing existed: the ingress's hop (a fresh span id in the client's trace) reaches the backend.
  const sent = answer.headers.get("traceparent");
  expect(sent).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  expect(upstream.seen.find((call) => call.path === "/")?.headers.traceparent).toBe(sent as string);
  expect(upstream.seen.find((call) => call.path === "/echo")?.headers.traceparent).toBe(
    forwarded.headers.get("traceparent") as string,
  );
  // A graceful stop is when an SDK would flush: still nothing.
  const exits = await Promise.all(
    [stack.ingress, ...stack.proxies].map((service) => service.stop("SIGTERM")),
  );
  expect(exits).toEqual([0, 0]);
  expect(connections).toBe(0);
});
