import * as hdr from "hdr-histogram-js";

/**
 * Latency recording in microseconds with an HDR histogram: constant memory and 3 significant
 * digits at any percentile, however many requests a run sends (a sorted array of every sample
 * would grow without bound). A coarse log-spaced bucket count sits beside it for the report's
 * bar chart, which hdr-histogram-js has no iterator for.
 */
export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** Bucket upper bounds in ms: 1-2-5 steps, so the chart reads like a log axis. */
export const BUCKET_BOUNDS_MS = [
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1000,
  2000,
  5000,
  10_000,
  20_000,
  50_000,
  100_000,
  Infinity,
];

export interface Bucket {
  /** Lower bound (inclusive) and upper bound (exclusive) in ms. */
  fromMs: number;
  toMs: number | null;
  count: number;
}

export class LatencyHistogram {
  private readonly hdr: hdr.Histogram;
  private readonly buckets = new Array<number>(BUCKET_BOUNDS_MS.length).fill(0);

  constructor(significantDigits: 1 | 2 | 3 = 3) {
    // Microseconds from 1 µs; autoResize lets a pathological hour-long request still be recorded.
    this.hdr = hdr.build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: 3_600_000_000,
      numberOfSignificantValueDigits: significantDigits,
      autoResize: true,
    });
  }

  record(ms: number): void {
    this.hdr.recordValue(Math.max(1, Math.round(ms * 1000)));
    const index = BUCKET_BOUNDS_MS.findIndex((bound) => ms < bound);
    this.buckets[index === -1 ? this.buckets.length - 1 : index]! += 1;
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  percentileMs(percentile: number): number {
    if (this.count === 0) return 0;
    // HDR reports the top of a value's bucket; never claim more than the largest value seen.
    return Math.min(this.hdr.getValueAtPercentile(percentile), this.hdr.maxValue) / 1000;
  }

  summary(): LatencySummary {
    const empty = this.count === 0;
    return {
      count: this.count,
      minMs: empty ? 0 : this.hdr.minNonZeroValue / 1000,
      meanMs: empty ? 0 : this.hdr.mean / 1000,
      p50Ms: this.percentileMs(50),
      p90Ms: this.percentileMs(90),
      p99Ms: this.percentileMs(99),
      p999Ms: this.percentileMs(99.9),
      maxMs: empty ? 0 : this.hdr.maxValue / 1000,
    };
  }

  /** The percentile curve (the classic HDR plot), at ticks that get denser toward the tail. */
  percentileCurve(): { percentile: number; ms: number }[] {
    const ticks = [
      0, 10, 20, 30, 40, 50, 60, 70, 75, 80, 85, 90, 95, 97.5, 99, 99.5, 99.9, 99.95, 99.99, 100,
    ];
    return ticks.map((percentile) => ({ percentile, ms: this.percentileMs(percentile) }));
  }

  bucketCounts(): Bucket[] {
    return this.buckets.map((count, index) => ({
      fromMs: index === 0 ? 0 : BUCKET_BOUNDS_MS[index - 1]!,
      toMs: Number.isFinite(BUCKET_BOUNDS_MS[index]!) ? BUCKET_BOUNDS_MS[index]! : null,
      count,
    }));
  }

  /** HDR's own compressed encoding, so another tool can merge or re-analyse the full histogram. */
  encoded(): string {
    return hdr.encodeIntoCompressedBase64(this.hdr);
  }
}
