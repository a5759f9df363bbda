import { afterAll, describe, expect, test } from "bun:test";
import { FakeIngress } from "./fake-ingress.ts";
import { runCli } from "./run-cli.ts";

const RATE = 100;
const STALL_MS = 1000;
const fake = new FakeIngress({ processingMs: 0, stallAfter: 20, stallMs: STALL_MS });

afterAll(() => fake.stop());

describe("rate mode (open model)", () => {
  test("requests due while the server stalls for a second carry the stall in their latency (no coordinated omission)", async () => {
    // Two connections: both get stuck in the stall, so the requests due meanwhile cannot even be
    // sent. A tester that timed from the send would report them as fast; timing from the due
    // time, each one shows how long it really waited.
    const run = await runCli([
      "--url",
      fake.url,
      "--rate",
      String(RATE),
      "--count",
      "150",
      "--concurrency",
      "2",
      "--max-error-rate",
      "0",
    ]);
    expect(run.code).toBe(0);
    expect(run.result.totals).toMatchObject({ sent: 150, succeeded: 150 });
    expect(fake.stallStartedAt).toBeDefined();
    // The server never saw more than the two connections: the rest waited on the client side.
    expect(fake.peakInFlight).toBeLessThanOrEqual(2);

    // Requests due in the first half of the stall waited at least half of it: about RATE × 0.5 of them.
    const slow = run.result.histogram
      .filter((b) => b.fromMs >= STALL_MS / 2)
      .reduce((n, b) => n + b.count, 0);
    expect(slow).toBeGreaterThanOrEqual(Math.floor(((RATE * STALL_MS) / 2 / 1000) * 0.9));
    expect(run.result.latencyMs.maxMs).toBeGreaterThanOrEqual(STALL_MS);
    // The summary says where the wait happened: on the client, behind the full in-flight cap.
    expect(run.result.scheduleLag?.maxMs).toBeGreaterThanOrEqual(STALL_MS * 0.9);
    expect(run.stdout).toContain("in-flight cap");
    // The median is not the stall: most requests were fast; the tail shows it.
    expect(run.result.latencyMs.p99Ms).toBeGreaterThanOrEqual(STALL_MS * 0.9);
  });
});
