import { LatencyHistogram, type LatencySummary } from "./histogram.ts";
import type { Cause, Outcome } from "./outcome.ts";

/** One slice of the run (see `sliceMs`), for the over-time charts; counts are per second. */
export interface TimelinePoint {
  /** Start of the slice in seconds since the run started (warm-up included). */
  atS: number;
  sentPerS: number;
  succeededPerS: number;
  failedPerS: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Slice {
  sent: number;
  succeeded: number;
  failed: number;
  latency: LatencyHistogram;
}

/**
 * Collects every request's outcome. Latency and counts cover requests *started* in the
 * measurement window (after warm-up); throughput counts requests *completed* inside it, which is
 * what a server sustains. All times are `performance.now()` milliseconds (monotonic).
 */
export class Recorder {
  readonly latency = new LatencyHistogram();
  /** Rate mode: how late each request left the client after its due time (full in-flight cap, busy client). */
  readonly scheduleLag = new LatencyHistogram(2);
  sent = 0;
  succeeded = 0;
  failed = 0;
  warmupRequests = 0;
  inFlight = 0;
  peakInFlight = 0;
  readonly byStatus = new Map<string, number>();
  readonly byCause = new Map<Cause, number>();
  readonly pods = new Map<string, number>();
  /** Per identity, when the run mixes several (outcome.tenant set). */
  readonly tenants = new Map<string, TenantStats>();
  private queuedMsSum = 0;
  private processingMsSum = 0;
  private serverTimed = 0;
  private windowCompleted = 0;
  private windowSucceeded = 0;
  private lastCompletionAt: number;
  private readonly slices: Slice[] = [];

  constructor(
    readonly startedAt: number,
    /** Measurement starts here (after warm-up). */
    readonly measureFrom: number,
    /** Measurement ends here for duration-bound runs; Infinity when the count ends the run. */
    public measureUntil: number,
    /** Width of a timeline slice: finer for short runs so their charts still show a shape. */
    readonly sliceMs = 1000,
  ) {
    this.lastCompletionAt = measureFrom;
  }

  /** A request leaves the client (or, in rate mode, its scheduled time has come). */
  begin(at: number): void {
    this.inFlight += 1;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (at < this.measureFrom) this.warmupRequests += 1;
    else this.sent += 1;
    this.slice(at).sent += 1;
  }

  /** Rate mode: a request due at `due` is being sent at `sentAt`. */
  lag(due: number, sentAt: number): void {
    if (due >= this.measureFrom) this.scheduleLag.record(Math.max(0, sentAt - due));
  }

  /** A request has its final answer; `startedAt` is its send time, or its scheduled time in rate mode. */
  complete(startedAt: number, finishedAt: number, outcome: Outcome): void {
    this.inFlight -= 1;
    const latencyMs = finishedAt - startedAt;
    const ok = outcome.cause === "ok";
    const slice = this.slice(finishedAt);
    slice.latency.record(latencyMs);
    if (ok) slice.succeeded += 1;
    else slice.failed += 1;

    if (finishedAt >= this.measureFrom && finishedAt <= this.measureUntil) {
      this.windowCompleted += 1;
      if (ok) this.windowSucceeded += 1;
      this.lastCompletionAt = Math.max(this.lastCompletionAt, finishedAt);
    }
    if (startedAt < this.measureFrom) return;

    this.latency.record(latencyMs);
    if (ok) this.succeeded += 1;
    else this.failed += 1;
    const status = outcome.status === null ? "no response" : String(outcome.status);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    this.byCause.set(outcome.cause, (this.byCause.get(outcome.cause) ?? 0) + 1);
    if (outcome.tenant !== undefined) this.tenantStats(outcome.tenant).record(latencyMs, outcome);
    if (outcome.pod !== undefined) this.pods.set(outcome.pod, (this.pods.get(outcome.pod) ?? 0) + 1);
    if (outcome.queuedMs !== undefined && outcome.processingMs !== undefined) {
      this.queuedMsSum += outcome.queuedMs;
      this.processingMsSum += outcome.processingMs;
      this.serverTimed += 1;
    }
  }

  /** The run was stopped early (Ctrl-C): the window ends now, not at the planned end. */
  endWindow(at: number): void {
    if (at < this.measureUntil) this.measureUntil = Math.max(at, this.measureFrom);
  }

  get completed(): number {
    return this.succeeded + this.failed;
  }

  /** Seconds the throughput is measured over: the window, or up to the last answer when the count ended the run. */
  windowSeconds(): number {
    const end = Number.isFinite(this.measureUntil) ? this.measureUntil : this.lastCompletionAt;
    return Math.max(0, end - this.measureFrom) / 1000;
  }

  throughput(): { completedPerS: number; succeededPerS: number } {
    const seconds = this.windowSeconds();
    return seconds > 0
      ? { completedPerS: this.windowCompleted / seconds, succeededPerS: this.windowSucceeded / seconds }
      : { completedPerS: 0, succeededPerS: 0 };
  }

  /** Mean time the server says requests waited in the queue and were processed. */
  serverTiming(): { queuedMs: number; processingMs: number } | null {
    return this.serverTimed === 0
      ? null
      : {
          queuedMs: this.queuedMsSum / this.serverTimed,
          processingMs: this.processingMsSum / this.serverTimed,
        };
  }

  latencySummary(): LatencySummary {
    return this.latency.summary();
  }

  timeline(): TimelinePoint[] {
    const perS = 1000 / this.sliceMs;
    return Array.from(this.slices, (slice, index) => {
      const s = slice ?? { sent: 0, succeeded: 0, failed: 0, latency: undefined };
      const summary = s.latency?.summary();
      return {
        atS: (index * this.sliceMs) / 1000,
        sentPerS: s.sent * perS,
        succeededPerS: s.succeeded * perS,
        failedPerS: s.failed * perS,
        p50Ms: summary?.p50Ms ?? 0,
        p99Ms: summary?.p99Ms ?? 0,
        maxMs: summary?.maxMs ?? 0,
      };
    });
  }

  private tenantStats(tenant: string): TenantStats {
    let stats = this.tenants.get(tenant);
    if (!stats) {
      stats = new TenantStats();
      this.tenants.set(tenant, stats);
    }
    return stats;
  }

  private slice(at: number): Slice {
    const index = Math.max(0, Math.floor((at - this.startedAt) / this.sliceMs));
    let slice = this.slices[index];
    if (!slice) {
      // Two significant digits are plenty for a curve over time and keep each slice small.
      slice = { sent: 0, succeeded: 0, failed: 0, latency: new LatencyHistogram(2) };
      this.slices[index] = slice;
    }
    return slice;
  }
}

/** One identity's share of a mixed run: counts, statuses and latency of its measured requests. */
export class TenantStats {
  readonly latency = new LatencyHistogram(2);
  succeeded = 0;
  failed = 0;
  readonly byStatus = new Map<string, number>();

  record(latencyMs: number, outcome: Outcome): void {
    this.latency.record(latencyMs);
    if (outcome.cause === "ok") this.succeeded += 1;
    else this.failed += 1;
    const status = outcome.status === null ? "no response" : String(outcome.status);
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }
}
