import { describe, expect, test } from "bun:test";
import { HotHistogram } from "@rsd/shared";
import { RollingStats } from "../../ingress/src/admin/rolling-stats.ts";

describe("the console's rolling figures", () => {
  test("per tick: answers/s, 5xx/s and percentiles from the histogram's differences; the ring keeps its size", () => {
    const histogram = new HotHistogram({ name: "t", help: "t", buckets: [0.001, 0.01, 0.1], registers: [] });
    const rolling = new RollingStats(histogram, 3);
    for (let index = 0; index < 7; index++) histogram.observe(0.05); // before the console: not a tick
    expect(rolling.sample(0, 1000)).toBeUndefined();
    for (let index = 0; index < 100; index++) histogram.observe(0.005);
    const point = rolling.sample(4, 2000);
    expect(point).toEqual({ t: 2000, rps: 100, errorsPerS: 4, p50Ms: 5.5, p99Ms: 9.91 });
    expect(rolling.sample(4, 3000)).toEqual({ t: 3000, rps: 0, errorsPerS: 0, p50Ms: null, p99Ms: null });
    for (let index = 0; index < 10; index++) histogram.observe(1); // above every bound
    expect(rolling.sample(4, 3500)?.rps).toBe(20);
    histogram.observe(0.0001);
    rolling.sample(4, 4500);
    expect(rolling.series().map((each) => each.t)).toEqual([3000, 3500, 4500]);
    const summary = rolling.summary(2);
    expect(summary.rps).toBe(10.5);
    expect(summary.p99Ms).toBe(100);
  });
});
