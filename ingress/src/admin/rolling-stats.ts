import type { HotHistogram } from "@rsd/shared";

/** One tick of traffic (normally one second). */
export interface TrafficPoint {
  /** Epoch ms of the end of the tick. */
  t: number;
  /** API answers per second during the tick. */
  rps: number;
  /** 5xx answers per second during the tick. */
  errorsPerS: number;
  /** Latency percentiles of the answers of the tick, ms; null without answers. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * The console's rolling throughput and latency, from what the ingress already records for
 * /metrics: once a tick it copies the request-duration histogram's bucket counts and the answer
 * totals, and keeps the difference to the previous tick in a fixed-size ring. Nothing is added
 * to a request's path; memory is `slots × buckets` numbers, whatever the traffic.
 */
export class RollingStats {
  private readonly bucketCounts: Float64Array;
  private readonly previous: Float64Array;
  private readonly ring: Float64Array[];
  private readonly points: (TrafficPoint | undefined)[];
  private next = 0;
  private previousCount: number | undefined;
  private previousErrors = 0;
  private previousAt = 0;

  constructor(
    private readonly histogram: HotHistogram,
    /** How many ticks the window holds (300 one-second ticks: five minutes; 3000 at 100 ms). */
    readonly slots = 300,
  ) {
    const width = histogram.buckets.length + 1;
    this.bucketCounts = new Float64Array(width);
    this.previous = new Float64Array(width);
    this.ring = Array.from({ length: slots }, () => new Float64Array(width));
    this.points = new Array(slots).fill(undefined);
  }

  /** Takes one sample; `errorTotal` is the number of 5xx answers so far. Returns the tick's point. */
  sample(errorTotal: number, now = Date.now()): TrafficPoint | undefined {
    const count = this.histogram.copyCounts(this.bucketCounts);
    if (this.previousCount === undefined) {
      // The first sample is the baseline: what came before the console was opened is not a tick.
      this.remember(count, errorTotal, now);
      return undefined;
    }
    const slot = this.ring[this.next] as Float64Array;
    for (let index = 0; index < slot.length; index++)
      slot[index] = (this.bucketCounts[index] as number) - (this.previous[index] as number);
    const seconds = Math.max(0.001, (now - this.previousAt) / 1000);
    const point: TrafficPoint = {
      t: now,
      rps: round((count - this.previousCount) / seconds),
      errorsPerS: round(Math.max(0, errorTotal - this.previousErrors) / seconds),
      p50Ms: this.quantile([slot], 0.5),
      p99Ms: this.quantile([slot], 0.99),
    };
    this.points[this.next] = point;
    this.next = (this.next + 1) % this.slots;
    this.remember(count, errorTotal, now);
    return point;
  }

  /** The points of the window, oldest first. */
  series(): TrafficPoint[] {
    const ordered: TrafficPoint[] = [];
    for (let offset = 0; offset < this.slots; offset++) {
      const point = this.points[(this.next + offset) % this.slots];
      if (point) ordered.push(point);
    }
    return ordered;
  }

  /** Throughput, error rate and percentiles over the last `ticks` ticks. */
  summary(ticks = 60): { rps: number; errorRate: number; p50Ms: number | null; p99Ms: number | null } {
    const recent = this.series().slice(-ticks);
    const slots: Float64Array[] = [];
    for (let back = 1; back <= recent.length; back++)
      slots.push(this.ring[(this.next - back + this.slots) % this.slots] as Float64Array);
    const answers = recent.reduce((sum, point) => sum + point.rps, 0);
    const errors = recent.reduce((sum, point) => sum + point.errorsPerS, 0);
    return {
      rps: recent.length ? round(answers / recent.length) : 0,
      errorRate: answers > 0 ? round(errors / answers, 4) : 0,
      p50Ms: this.quantile(slots, 0.5),
      p99Ms: this.quantile(slots, 0.99),
    };
  }

  private remember(count: number, errorTotal: number, now: number): void {
    this.previous.set(this.bucketCounts);
    this.previousCount = count;
    this.previousErrors = errorTotal;
    this.previousAt = now;
  }

  /** Prometheus's histogram_quantile over the summed slots: linear within the bucket, in ms. */
  private quantile(slots: Float64Array[], q: number): number | null {
    const bounds = this.histogram.buckets;
    const width = bounds.length + 1;
    let total = 0;
    const sums = new Float64Array(width);
    for (const slot of slots)
      for (let index = 0; index < width; index++)
        sums[index] = (sums[index] as number) + (slot[index] as number);
    for (const value of sums) total += value;
    if (total <= 0) return null;
    const rank = q * total;
    let cumulative = 0;
    for (let index = 0; index < width; index++) {
      const inBucket = sums[index] as number;
      if (cumulative + inBucket >= rank && inBucket > 0) {
        // Above the last bound there is no upper edge: report the last bound, as Prometheus does.
        if (index >= bounds.length) return round((bounds.at(-1) as number) * 1000);
        const lower = index === 0 ? 0 : (bounds[index - 1] as number);
        const upper = bounds[index] as number;
        return round((lower + ((upper - lower) * (rank - cumulative)) / inBucket) * 1000);
      }
      cumulative += inBucket;
    }
    return null;
  }
}

function round(value: number, digits = 2): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
