import { describe, expect, test } from "bun:test";
import { HotCounter, HotHistogram, latencyBuckets } from "@rsd/shared";
import fc from "fast-check";
import { Counter, Histogram, Registry } from "prom-client";

/** The same observations through prom-client's Histogram and through HotHistogram, as exposition text. */
async function bothHistograms(values: number[], buckets: readonly number[]) {
  const reference = new Registry();
  const hot = new Registry();
  const options = { name: "rsd_test_duration_seconds", help: "A test histogram." };
  const prom = new Histogram({ ...options, buckets: [...buckets], registers: [reference] });
  const ours = new HotHistogram({ ...options, buckets, registers: [hot] });
  for (const value of values) {
    prom.observe(value);
    ours.observe(value);
  }
  return { expected: await reference.metrics(), actual: await hot.metrics(), ours };
}

describe("hot-path metrics render exactly what prom-client would", () => {
  test("a histogram: any observations, on the bucket bounds and between them", async () => {
    // 0.0005 itself, 0 and 1e-9 fall in the first bucket (le is inclusive); 61 only in +Inf.
    const onBounds = [...latencyBuckets, 0, 61, 1e-9];
    const { expected, actual } = await bothHistograms(onBounds, latencyBuckets);
    expect(actual).toBe(expected);
    expect(actual).toContain('rsd_test_duration_seconds_bucket{le="0.0005"} 3');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 120, noNaN: true }), { maxLength: 200 }),
        async (values) => {
          const both = await bothHistograms(values, latencyBuckets);
          expect(both.actual).toBe(both.expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  test("a histogram ignores non-finite values instead of throwing, and resets to zero", async () => {
    const { actual, ours } = await bothHistograms([0.2], latencyBuckets);
    expect(actual).toContain("rsd_test_duration_seconds_count 1");
    ours.observe(Number.NaN);
    ours.observe(Number.POSITIVE_INFINITY);
    const after = ours.get().values.find((sample) => sample.metricName.endsWith("_count"));
    expect(after?.value).toBe(1);
    ours.reset();
    expect(ours.get().values.every((sample) => sample.value === 0)).toBe(true);
  });

  test("a counter by label: counts reach the exposition at scrape, and keep adding up", async () => {
    const reference = new Registry();
    const hot = new Registry();
    const options = { name: "rsd_test_total", help: "A test counter.", labelNames: ["outcome"] as const };
    const prom = new Counter({ ...options, labelNames: ["outcome"], registers: [reference] });
    const ours = new HotCounter({ ...options, labelNames: ["outcome"], registers: [hot] }, ["ok", "dead"]);
    prom.labels({ outcome: "ok" }).inc(0);
    prom.labels({ outcome: "dead" }).inc(0);
    expect(await hot.metrics()).toBe(await reference.metrics());
    for (const [outcome, times] of [
      ["ok", 3],
      ["error", 2],
    ] as const) {
      for (let index = 0; index < times; index++) {
        prom.labels({ outcome }).inc();
        ours.inc(outcome);
      }
    }
    expect(await hot.metrics()).toBe(await reference.metrics());
    prom.labels({ outcome: "ok" }).inc();
    ours.inc("ok");
    const text = await hot.metrics();
    expect(text).toBe(await reference.metrics());
    expect(text).toContain('rsd_test_total{outcome="ok"} 4');
  });
});
