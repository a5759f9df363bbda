import type { BackendObserver, CallOutcome } from "./backend-signals.ts";
import { LatencyBaseline } from "./latency-baseline.ts";

export interface AdaptiveLimitOptions {
  /** MIN_TERMINALS: the floor. */
  min: number;
  /** TERMINALS: the hard cap. */
  max: number;
  /** Terminals running or reserved now: growth only when the limit is actually used. */
  inUse: () => number;
  /** Called with the new whole limit whenever it changes. */
  onChange: (limit: number) => void;
  now?: () => number;
}

/** Latency up to this multiple of the baseline counts as unloaded (noise, not queueing). */
const tolerance = 1.1;
/** Latency up to this multiple of the baseline is flat: the knee is not near. */
const flat = 1.06;
/** A window whose calls were dropped (overload, failure, timeout) above this share stops growing and backs off. */
const dropShare = 0.1;
/** Back-off per window on drops: gentle, as concurrency-limits settled on (#146). */
const dropBackoff = 0.9;
/** Samples a window needs before it decides; it also closes after maxWindowMs with at least one. */
const minSamples = 5;
const minWindowMs = 100;
const maxWindowMs = 1000;

/**
 * A per-pod concurrency limit between MIN_TERMINALS and TERMINALS, in the Gradient2 family:
 * every window (≥ 100 ms, ≥ 2 baselines, ≥ 5 calls) compares the mean latency of its successful
 * calls to the unloaded baseline. Above tolerance the limit shrinks by the gradient (smoothed);
 * at the baseline, and only if the pod used its limit, it grows by a headroom of √limit ÷ 2 (a
 * quarter of a call per window once latency is within tolerance but no longer flat).
 * Drops back it off by 10% per window, never below half the last healthy limit, and never feed
 * the latency: a timeout's duration is the deadline, not the backend's latency. See
 * docs/architecture.md ("Adaptive terminals") for the failure modes this is built against.
 */
export class AdaptiveLimit implements BackendObserver {
  private value: number;
  private readonly baseline = new LatencyBaseline();
  private windowStart: number;
  private okCount = 0;
  private okSumMs = 0;
  private drops = 0;
  private peakInUse = 0;
  /** The limit at the last window without drops: drops alone never take it below half of this. */
  private healthyLimit: number;
  private readonly now: () => number;

  constructor(private readonly options: AdaptiveLimitOptions) {
    this.now = options.now ?? Date.now;
    this.value = Math.min(options.max, Math.max(options.min, 4));
    this.healthyLimit = this.value;
    this.windowStart = this.now();
  }

  /** The whole limit the pool applies. */
  get limit(): number {
    return Math.floor(this.value);
  }

  observe(outcome: CallOutcome, ms: number): void {
    if (outcome === "ok") {
      this.okCount++;
      this.okSumMs += ms;
    } else this.drops++;
    this.peakInUse = Math.max(this.peakInUse, this.options.inUse());
    const now = this.now();
    const elapsed = now - this.windowStart;
    const samples = this.okCount + this.drops;
    const windowMs = Math.min(maxWindowMs, Math.max(minWindowMs, 2 * (this.baseline.ms ?? 0)));
    if ((elapsed >= windowMs && samples >= minSamples) || elapsed >= maxWindowMs) this.closeWindow(now);
  }

  private closeWindow(now: number): void {
    const before = this.limit;
    const samples = this.okCount + this.drops;
    const dropped = this.drops / samples;
    if (this.okCount === 0) {
      // Every call failed: the backend is down, not loaded. Hold (the breaker's business).
    } else {
      const mean = this.okSumMs / this.okCount;
      this.baseline.add(mean, now);
      const baseline = this.baseline.ms ?? mean;
      const gradient = Math.max(0.5, Math.min(1, (tolerance * baseline) / Math.max(mean, 0.001)));
      if (gradient < 1) this.value = 0.5 * this.value + 0.5 * this.value * gradient;
      else if (dropped <= dropShare && this.peakInUse >= Math.floor(this.value))
        // Flat latency: far from the knee, grow by √limit ÷ 2. Within tolerance but above flat:
        // near the knee, creep, so the fleet's limits (which add up) do not overshoot it.
        this.value += mean <= flat * baseline ? Math.max(1, Math.sqrt(this.value) / 2) : 0.25;
      if (dropped > dropShare)
        this.value = Math.max(this.value * dropBackoff, Math.min(this.value, this.healthyLimit / 2));
      else this.healthyLimit = this.value;
    }
    this.value = Math.min(this.options.max, Math.max(this.options.min, this.value));
    this.windowStart = now;
    this.okCount = 0;
    this.okSumMs = 0;
    this.drops = 0;
    this.peakInUse = 0;
    if (this.limit !== before) this.options.onChange(this.limit);
  }
}
