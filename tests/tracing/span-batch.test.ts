import { afterAll, expect, test } from "bun:test";
import type { TracingConfig } from "@rsd/shared";
import { startTracing, type Tracing } from "@rsd/shared/tracing";
import { OtlpReceiver } from "../helpers/otlp-receiver.ts";
import { waitFor } from "../helpers/wait.ts";

// Sampled spans are recorded as plain data and made into SDK spans in batches (span-batch.ts).
// These tests check, through the SDK's own exporter and a real OTLP/HTTP receiver, that what
// arrives is what was recorded, that the wait is bounded, and that a stop leaves nothing behind.

const receiver = new OtlpReceiver();
afterAll(() => receiver.stop());

async function tracingWith(
  sampler: TracingConfig["sampler"] = "always_on",
  warn?: (message: string, fields: Record<string, unknown>) => void,
): Promise<Tracing> {
  const tracing = await startTracing(
    {
      endpoint: receiver.url,
      protocol: "http/protobuf",
      serviceName: "span-batch-test",
      sampler,
      samplerRatio: 1,
      resourceAttributes: {},
      instanceId: "test",
      scheduleDelayMs: 100,
    },
    warn,
  );
  if (!tracing) throw new Error("tracing did not start");
  return tracing;
}

const traceIdOf = (traceparent: string) => traceparent.slice(3, 35);
const spanIdOf = (traceparent: string) => traceparent.slice(36, 52);

test("a recorded span reaches the collector as recorded: ids, parent, times, attributes, link and status", async () => {
  const tracing = await tracingWith();
  const linked = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  const root = tracing.startSpan({
    name: "POST /api/requests",
    kind: "server",
    attributes: { "url.path": `/${"x".repeat(600)}`, "rsd.skipped": undefined, count: 3 },
  });
  expect(root.recording).toBe(true);
  const startTime = Date.now() - 40;
  const child = tracing.startSpan({
    name: "process rsd:requests",
    kind: "consumer",
    parent: root.traceparent,
    spanId: "1234567890abcdef",
    startTime,
    links: [linked, "not a traceparent"],
  });
  expect(child.traceparent).toBe(`00-${traceIdOf(root.traceparent)}-1234567890abcdef-01`);
  child.set("rsd.outcome", "error");
  child.fail(new TypeError("upstream gone"));
  child.end(startTime + 25);
  root.set("http.response.status_code", 202);
  root.end();
  // What comes after the end is not recorded, before the batch makes the span as after.
  root.set("after.end", true);
  root.fail(new Error("too late"));

  // No shutdown: the batch's own timer makes them, and the SDK's processor sends them.
  const traceId = traceIdOf(root.traceparent);
  await waitFor("both spans at the receiver", () => receiver.trace(traceId).length === 2);
  const byName = new Map(receiver.trace(traceId).map((span) => [span.name, span]));
  const server = byName.get("POST /api/requests");
  const consumer = byName.get("process rsd:requests");
  if (!server || !consumer) throw new Error("a span is missing");

  expect(server.kind).toBe(2);
  expect(server.spanId).toBe(spanIdOf(root.traceparent));
  expect(server.parentSpanId).toBe("");
  expect(server.service).toBe("span-batch-test");
  expect(String(server.attributes["url.path"]).length).toBe(512);
  expect(server.attributes.count).toBe(3);
  expect(server.attributes["http.response.status_code"]).toBe(202);
  expect("rsd.skipped" in server.attributes).toBe(false);
  expect("after.end" in server.attributes).toBe(false);
  expect("error.type" in server.attributes).toBe(false);
  expect(server.status).toBe(0);
  expect(server.endMs).toBeGreaterThanOrEqual(server.startMs);

  expect(consumer.kind).toBe(5);
  expect(consumer.spanId).toBe("1234567890abcdef");
  expect(consumer.parentSpanId).toBe(server.spanId);
  expect(consumer.startMs).toBeCloseTo(startTime, 3);
  expect(consumer.endMs).toBeCloseTo(startTime + 25, 3);
  expect(consumer.links).toEqual([
    { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" },
  ]);
  expect(consumer.attributes["error.type"]).toBe("TypeError");
  expect(consumer.attributes["rsd.outcome"]).toBe("error");
  expect(consumer.status).toBe(2);
  await tracing.shutdown(5000);
});

test("spans ended just before a stop are made and sent by it, without waiting for the batch's timer", async () => {
  const tracing = await tracingWith();
  const spans = [1, 2, 3].map((n) => tracing.startSpan({ name: `stop ${n}`, kind: "internal" }));
  for (const span of spans) span.end();
  await tracing.shutdown(5000);
  // shutdown resolved: everything was exported before it did.
  for (const span of spans) expect(receiver.trace(traceIdOf(span.traceparent))).toHaveLength(1);
});

test("at most 2,048 ended spans wait to be made: more are dropped and reported once, never queued", async () => {
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const tracing = await tracingWith("always_on", (message, fields) => warnings.push({ message, fields }));
  // One synchronous burst: nothing is made until the event loop turns, so 52 find the batch full.
  const traceIds = new Set<string>();
  for (let i = 0; i < 2100; i++) {
    const span = tracing.startSpan({ name: "burst", kind: "internal" });
    traceIds.add(traceIdOf(span.traceparent));
    span.end();
  }
  expect(warnings).toHaveLength(1);
  expect(warnings[0]?.message).toBe("tracing: spans not exported");
  expect(String(warnings[0]?.fields.problem)).toContain("span dropped");
  await tracing.shutdown(10_000);
  const received = receiver.spans.filter((span) => span.name === "burst" && traceIds.has(span.traceId));
  expect(received).toHaveLength(2048);
});

test("a span the sampler drops is never recorded, and costs no batch entry", async () => {
  const tracing = await tracingWith("always_off");
  const span = tracing.startSpan({ name: "never", kind: "server", attributes: { a: 1 } });
  expect(span.recording).toBe(false);
  expect(span.traceparent).toEndWith("-00");
  span.set("b", 2);
  span.fail(new Error("x"));
  span.end();
  await tracing.shutdown(5000);
  expect(receiver.trace(traceIdOf(span.traceparent))).toHaveLength(0);
});
