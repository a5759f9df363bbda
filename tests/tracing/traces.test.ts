import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { OtlpReceiver, type ReceivedSpan } from "../helpers/otlp-receiver.ts";
import { Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait has its own deadline).
setDefaultTimeout(60_000);

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const hex = (digits: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(digits / 2)), (byte) =>
    byte.toString(16).padStart(2, "0"),
  ).join("");

/**
 * One stack, both OTLP/HTTP encodings: the ingress exports protobuf, the proxies JSON, to one
 * receiver that decodes each with the OpenTelemetry project's definitions.
 */
describe("traces from client to backend", () => {
  let receiver: OtlpReceiver;
  let upstream: TestUpstream;
  let stack: Stack;

  beforeAll(async () => {
    receiver = new OtlpReceiver();
    upstream = new TestUpstream();
    stack = await Stack.start({
      proxies: 2,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "200" },
      ingressEnv: { OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" },
      proxyEnv: {
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=test,team=a%20b",
        HANDLER: "http",
        UPSTREAM_URL: upstream.url,
      },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    upstream?.stop();
    receiver?.stop();
  });

  /** Waits until at least `count` spans of the trace have arrived. */
  const spansOf = async (traceId: string, count: number): Promise<ReceivedSpan[]> => {
    await waitFor(`${count} spans of trace ${traceId}`, () => receiver.trace(traceId).length >= count, {
      timeoutMs: 20_000,
    });
    return receiver.trace(traceId);
  };

  const one = (spans: ReceivedSpan[], kind: number) => {
    const found = spans.filter((span) => span.kind === kind);
    expect(found).toHaveLength(1);
    return found[0] as ReceivedSpan;
  };

  test("a request with a traceparent: ingress → queue → attempt → upstream call, one trace, parent by parent", async () => {
    const traceId = hex(32);
    const clientSpan = hex(16);
    const answer = await stack.request(
      { payload: { hello: "trace" } },
      { traceparent: `00-${traceId}-${clientSpan}-01` },
    );
    expect(answer.status).toBe(200);

    const spans = await spansOf(traceId, 4);
    expect(spans).toHaveLength(4);
    const server = one(spans, SERVER);
    const queue = one(spans, PRODUCER);
    const attempt = one(spans, CONSUMER);
    const client = one(spans, CLIENT);

    expect(server).toMatchObject({
      service: "rsd-ingress",
      name: "POST /api/requests",
      parentSpanId: clientSpan,
    });
    expect(server.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/requests",
      "http.response.status_code": 200,
    });

    const stream = stack.key("requests");
    expect(queue).toMatchObject({
      service: "rsd-proxy",
      name: `queue ${stream}`,
      parentSpanId: server.spanId,
    });
    expect(queue.attributes).toMatchObject({
      "messaging.system": "redis",
      "messaging.destination.name": stream,
      "messaging.operation.type": "send",
      "rsd.attempt": 1,
    });
    expect(queue.startMs).toBeLessThanOrEqual(queue.endMs);

    expect(attempt).toMatchObject({ name: `process ${stream}`, parentSpanId: queue.spanId, links: [] });
    expect(attempt.attributes).toMatchObject({
      "messaging.system": "redis",
      "messaging.destination.name": stream,
      "messaging.consumer.group.name": "proxies",
      "messaging.operation.type": "process",
      "rsd.attempt": 1,
      "rsd.outcome": "ok",
      "rsd.request.id": answer.body.id as string,
      "rsd.pod": answer.body.pod as string,
      "rsd.terminal": answer.body.terminal as number,
    });

    expect(client).toMatchObject({ service: "rsd-proxy", name: "POST", parentSpanId: attempt.spanId });
    expect(client.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.response.status_code": 200,
      "server.address": "127.0.0.1",
      "url.full": `${upstream.url}/`,
    });
    // The backend continues the trace below the client span.
    const seen = upstream.seen.find((call) => call.headers.traceparent?.includes(traceId));
    expect(seen?.headers.traceparent).toBe(`00-${traceId}-${client.spanId}-01`);
    // The client hears the ingress's span, the parent of everything that followed.
    expect(answer.headers.get("traceparent")).toBe(`00-${traceId}-${server.spanId}-01`);
    // Both encodings arrived, and the resource attributes were decoded.
    expect(new Set(receiver.requests.map((type) => type.split(";")[0]))).toEqual(
      new Set(["application/x-protobuf", "application/json"]),
    );
    expect(queue.resource).toMatchObject({
      "deployment.environment.name": "test",
      team: "a b",
      "service.instance.id": answer.body.pod as string,
      "telemetry.sdk.language": "nodejs",
    });
  });

  test("a retried request: two attempt spans in one trace, the second linked to the first", async () => {
    const traceId = hex(32);
    const response = await fetch(`${stack.ingress.url}/proxy/flaky-once?id=${traceId}`, {
      headers: { traceparent: `00-${traceId}-${hex(16)}-01` },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(`ok ${traceId}`);

    // The ingress, and a queue, an attempt and an upstream call per attempt.
    const spans = await spansOf(traceId, 7);
    expect(spans).toHaveLength(7);
    const server = one(spans, SERVER);
    expect(server.name).toBe("GET /proxy/*");
    const attempts = spans
      .filter((span) => span.kind === CONSUMER)
      .sort((a, b) => Number(a.attributes["rsd.attempt"]) - Number(b.attributes["rsd.attempt"]));
    expect(attempts.map((span) => span.attributes["rsd.attempt"])).toEqual([1, 2]);
    expect(attempts.map((span) => span.attributes["rsd.outcome"])).toEqual(["error", "ok"]);
    const [first, second] = attempts as [ReceivedSpan, ReceivedSpan];
    expect(first.status).toBe(2);
    expect(first.links).toEqual([]);
    expect(second.links).toEqual([{ traceId, spanId: first.spanId }]);

    const queues = spans.filter((span) => span.kind === PRODUCER);
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.parentSpanId).toBe(server.spanId);
    expect(new Set(attempts.map((span) => span.parentSpanId))).toEqual(
      new Set(queues.map((span) => span.spanId)),
    );

    const calls = spans.filter((span) => span.kind === CLIENT);
    expect(calls.map((span) => span.attributes["http.response.status_code"]).sort()).toEqual([200, 503]);
    expect(new Set(calls.map((span) => span.parentSpanId))).toEqual(
      new Set(attempts.map((span) => span.spanId)),
    );
  });

  test("hostile or careless traceparents start a new trace (and are never echoed back as they came)", async () => {
    const odd = [
      "garbage",
      `00-${"0".repeat(32)}-${hex(16)}-01`, // all-zero trace id: invalid
      `00-${hex(32)}-${"0".repeat(16)}-01`, // all-zero span id: invalid
      `ff-${hex(32)}-${hex(16)}-01`, // version ff is forbidden
      `00-${hex(32)}-${hex(16)}-01-${"x".repeat(4000)}`,
    ];
    const answers = await Promise.all(
      odd.map((traceparent) => stack.request({ payload: 1 }, { traceparent })),
    );
    for (const [index, answer] of answers.entries()) {
      expect(answer.status).toBe(200);
      const sent = answer.headers.get("traceparent") ?? "";
      expect(sent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(odd[index]).not.toContain(sent.slice(3, 35));
    }
    for (const answer of answers) {
      // A root span: the ingress span has no parent.
      const spans = await spansOf((answer.headers.get("traceparent") ?? "").slice(3, 35), 4);
      expect(spans.find((span) => span.kind === SERVER)?.parentSpanId).toBe("");
    }
  });

  // Last: it stops the services, whose graceful stop flushes what they still hold.
  test("an attempt of a tenant's request names the tenant; a default request's does not", async () => {
    const tenantTrace = hex(32);
    const tenantAnswer = await stack.request(
      { payload: { hello: "tenant" } },
      { traceparent: `00-${tenantTrace}-${hex(16)}-01`, "x-tenant": "acme" },
    );
    expect(tenantAnswer.status).toBe(200);
    expect(one(await spansOf(tenantTrace, 4), CONSUMER).attributes["rsd.tenant"]).toBe("acme");

    const defaultTrace = hex(32);
    const answer = await stack.request(
      { payload: { hello: "default" } },
      { traceparent: `00-${defaultTrace}-${hex(16)}-01` },
    );
    expect(answer.status).toBe(200);
    expect(one(await spansOf(defaultTrace, 4), CONSUMER).attributes["rsd.tenant"]).toBeUndefined();
  });

  test("a client's unsampled traceparent is respected; a graceful stop flushes the rest", async () => {
    const sampledOut = hex(32);
    const sampled = hex(32);
    expect(
      (await stack.request({ payload: 1 }, { traceparent: `00-${sampledOut}-${hex(16)}-00` })).status,
    ).toBe(200);
    expect((await stack.request({ payload: 2 }, { traceparent: `00-${sampled}-${hex(16)}-01` })).status).toBe(
      200,
    );
    const exits = await Promise.all(
      [stack.ingress, ...stack.proxies].map((service) => service.stop("SIGTERM")),
    );
    expect(exits).toEqual([0, 0, 0]);
    expect(receiver.trace(sampled)).toHaveLength(4);
    expect(receiver.trace(sampledOut)).toEqual([]);
  });
});
