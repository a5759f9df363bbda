import { Counter, type CounterConfiguration, type Registry } from "prom-client";

/**
 * Metrics recorded once or twice per request, cheap enough for that path. prom-client's own
 * `observe` and `inc` allocate a label object, a label/value pair and a closure, hash the labels
 * and look a float bucket bound up as a string property on every call: a few hundred
 * nanoseconds, several times per request. These keep plain numbers instead and hand them to
 * prom-client when Prometheus scrapes, so the exposition is prom-client's own text.
 */

/** Options of a label-less histogram (the same as prom-client's). */
export interface HotHistogramOptions {
  name: string;
  help: string;
  /** Upper bounds, ascending; `+Inf` is implied. */
  buckets: readonly number[];
  registers: Registry[];
}

interface Sample {
  value: number;
  labels: Record<string, string | number>;
  metricName: string;
}

/**
 * A label-less histogram whose `observe` only counts (one array slot, a sum and a count), and
 * that renders itself exactly as a prom-client Histogram would: cumulative `_bucket` samples
 * with `le`, then `_sum` and `_count`.
 */
export class HotHistogram {
  readonly type = "histogram";
  /** How prom-client's cluster aggregation would combine it (unused here, part of its metric shape). */
  readonly aggregator = "sum";
  readonly name: string;
  readonly help: string;
  private readonly bounds: readonly number[];
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(options: HotHistogramOptions) {
    this.name = options.name;
    this.help = options.help;
    this.bounds = [...options.buckets];
    this.counts = new Float64Array(this.bounds.length + 1);
    for (const registry of options.registers) registry.registerMetric(this as never);
  }

  /** Records one value; a non-finite one is ignored (a metric must never fail a request). */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.bounds;
    let slot = 0;
    while (slot < bounds.length && value > (bounds[slot] as number)) slot++;
    this.counts[slot] = (this.counts[slot] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /** Upper bounds of the buckets; copyCounts has one slot more, for values above them all. */
  get buckets(): readonly number[] {
    return this.bounds;
  }

  /**
   * Copies the count of each bucket (not cumulative) into `into`, of length buckets + 1, and
   * returns the total count. For readers that sample once a second (the console), never per request.
   */
  copyCounts(into: Float64Array): number {
    into.set(this.counts);
    return this.count;
  }

  /** The metric as prom-client's registry reads it at scrape time. */
  get(): { name: string; help: string; type: "histogram"; aggregator: "sum"; values: Sample[] } {
    const values: Sample[] = [];
    let cumulative = 0;
    const bucket = `${this.name}_bucket`;
    for (let slot = 0; slot < this.bounds.length; slot++) {
      cumulative += this.counts[slot] as number;
      values.push({ value: cumulative, labels: { le: this.bounds[slot] as number }, metricName: bucket });
    }
    values.push({ value: this.count, labels: { le: "+Inf" }, metricName: bucket });
    values.push({ value: this.sum, labels: {}, metricName: `${this.name}_sum` });
    values.push({ value: this.count, labels: {}, metricName: `${this.name}_count` });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

/**
 * A counter with one label whose `inc` adds to a plain number per label value; the sums move
 * into the prom-client Counter when it is collected (scraped), through its public API.
 */
export class HotCounter<Label extends string> {
  readonly counter: Counter<Label>;
  private readonly pending = new Map<string, number>();

  /** `exported`: label values shown (at 0) from the start, before their first event. */
  constructor(
    options: CounterConfiguration<Label> & { labelNames: readonly [Label] },
    exported: readonly string[] = [],
  ) {
    const pending = this.pending;
    const label = options.labelNames[0];
    this.counter = new Counter<Label>({
      ...options,
      collect() {
        for (const [value, count] of pending) {
          if (count > 0) this.labels({ [label]: value } as Record<Label, string>).inc(count);
          pending.set(value, 0);
        }
      },
    });
    for (const value of exported) this.counter.labels({ [label]: value } as Record<Label, string>).inc(0);
  }

  /** Counts one event for `labelValue`. */
  inc(labelValue: string): void {
    this.pending.set(labelValue, (this.pending.get(labelValue) ?? 0) + 1);
  }
}
