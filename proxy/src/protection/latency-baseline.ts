/**
 * The backend's unloaded latency, without ever probing for it: the lowest window mean seen in
 * the last `spanMs`, kept as one minimum per second (a bounded ring). A faster backend lowers it
 * at once; a slower one raises it when the old minima age out. Envoy's filter measures the same
 * thing by pinning concurrency to 1–3 every interval, which costs throughput and oscillates
 * (envoy#8337); see docs/architecture.md.
 */
export class LatencyBaseline {
  private readonly minima: { second: number; ms: number }[] = [];

  constructor(private readonly spanMs = 30_000) {}

  add(ms: number, now: number): void {
    const second = Math.floor(now / 1000);
    const last = this.minima[this.minima.length - 1];
    if (last && last.second === second) last.ms = Math.min(last.ms, ms);
    else this.minima.push({ second, ms });
    const oldest = second - Math.ceil(this.spanMs / 1000);
    while ((this.minima[0]?.second ?? oldest) < oldest) this.minima.shift();
  }

  /** The baseline, or undefined before the first window. */
  get ms(): number | undefined {
    if (this.minima.length === 0) return undefined;
    let low = Number.POSITIVE_INFINITY;
    for (const { ms } of this.minima) low = Math.min(low, ms);
    return low;
  }
}
