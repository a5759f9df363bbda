import { expect, test } from "bun:test";
import type { TracingConfig } from "@rsd/shared";
import { startTracing } from "@rsd/shared/tracing";
import { freePort } from "../helpers/ports.ts";

async function tracingWith(sampler: TracingConfig["sampler"], samplerRatio: number) {
  const tracing = await startTracing({
    // Nothing listens there; these tests look at decisions, not at exports.
    endpoint: `http://127.0.0.1:${await freePort()}`,
    protocol: "http/protobuf",
    serviceName: "test",
    sampler,
    samplerRatio,
    resourceAttributes: {},
    instanceId: "test",
    scheduleDelayMs: 5000,
  });
  if (!tracing) throw new Error("tracing did not start");
  return tracing;
}

const traceparentShape = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-0[01]$/;
const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7";

test("dropped spans carry a valid traceparent with the sampled flag off, in the parent's trace", async () => {
  const tracing = await tracingWith("parentbased_traceidratio", 0);
  const root = tracing.startSpan({ name: "POST /api/requests", kind: "server" });
  expect(root.recording).toBe(false);
  expect(root.traceparent).toMatch(traceparentShape);
  expect(root.traceparent).toEndWith("-00");
  // Each dropped root is a new trace.
  expect(tracing.startSpan({ name: "x", kind: "server" }).traceparent.slice(3, 35)).not.toBe(
    root.traceparent.slice(3, 35),
  );
  const child = tracing.startSpan({ name: "x", kind: "server", parent: `${parent}-00` });
  expect(child.recording).toBe(false);
  expect(child.traceparent).toStartWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
  expect(child.traceparent).not.toContain("00f067aa0ba902b7");
  expect(child.traceparent).toEndWith("-00");
  // A sampled parent wins over the ratio (parent-based).
  const sampled = tracing.startSpan({ name: "x", kind: "server", parent: `${parent}-01` });
  expect(sampled.recording).toBe(true);
  expect(sampled.traceparent).toStartWith("00-4bf92f3577b34da6a3ce929d0e0e4736-");
  expect(sampled.traceparent).toEndWith("-01");
  await tracing.shutdown(100);
});

test("a ratio of 1 records every root; traceidratio ignores the parent's flag; always_off records nothing", async () => {
  const all = await tracingWith("parentbased_traceidratio", 1);
  const root = all.startSpan({ name: "x", kind: "server" });
  expect(root.recording).toBe(true);
  expect(root.traceparent).toMatch(traceparentShape);
  expect(root.traceparent).toEndWith("-01");
  await all.shutdown(100);

  const ratio = await tracingWith("traceidratio", 1);
  expect(ratio.followsParent).toBe(false);
  expect(ratio.startSpan({ name: "x", kind: "server", parent: `${parent}-00` }).recording).toBe(true);
  await ratio.shutdown(100);

  const off = await tracingWith("always_off", 1);
  expect(off.startSpan({ name: "x", kind: "server", parent: `${parent}-01` }).recording).toBe(false);
  expect(off.startSpan({ name: "x", kind: "server" }).traceparent).toMatch(traceparentShape);
  await off.shutdown(100);
});
