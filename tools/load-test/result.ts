import type { LoadTestOptions, Mode } from "./args.ts";
import type { Capacity, Fleet } from "./fleet.ts";
import type { Bucket, LatencySummary } from "./histogram.ts";
import type { Cause } from "./outcome.ts";
import type { Recorder, TimelinePoint } from "./stats.ts";

/** The one description of a finished run: the summary, the JSON file and the HTML page all render it. */
export interface LoadTestResult {
  tool: "redis-stream-demo/load-test";
  schemaVersion: 1;
  startedAt: string;
  options: {
    mode: Mode;
    url: string;
    count: number | null;
    durationS: number | null;
    warmupS: number;
    concurrency: number;
    rate: number | null;
    timeoutS: number;
    async: boolean;
    processingMs: number | null;
    payloadBytes: number;
  };
  /** Whole run in seconds, warm-up and drain included. */
  elapsedS: number;
  totals: {
    sent: number;
    completed: number;
    succeeded: number;
    failed: number;
    warmupRequests: number;
    errorRate: number;
    byStatus: Record<string, number>;
    byCause: Partial<Record<Cause, number>>;
  };
  throughput: { windowS: number; completedPerS: number; succeededPerS: number };
  latencyMs: LatencySummary;
  percentiles: { percentile: number; ms: number }[];
  histogram: Bucket[];
  /** The full HDR histogram (µs), compressed base64, for re-analysis or merging. */
  hdrHistogram: string;
  timeline: TimelinePoint[];
  concurrency: { peakInFlight: number };
  /** Rate mode only: how late requests left the client after their due time (already inside latency). */
  scheduleLag: { p99Ms: number; maxMs: number } | null;
  server: {
    fleet: Fleet | null;
    theoreticalRps: number | null;
    capacityBasis: Capacity["basis"];
    /** Achieved successful throughput ÷ theoretical capacity. */
    efficiency: number | null;
    pods: Record<string, number>;
    meanQueuedMs: number | null;
    meanProcessingMs: number | null;
  };
  verdict: { maxErrorRate: number; errorRate: number; passed: boolean; interrupted: boolean };
  /** Per identity (--tenant, --api-key) when the run mixed several; null otherwise. */
  tenants: Record<string, TenantResult> | null;
}

export interface TenantResult {
  succeeded: number;
  failed: number;
  /** Share of all succeeded requests of the run, 0…1. */
  share: number;
  byStatus: Record<string, number>;
  latencyMs: LatencySummary;
}

function tenantResults(recorder: Recorder): Record<string, TenantResult> | null {
  if (recorder.tenants.size === 0) return null;
  const results: Record<string, TenantResult> = {};
  for (const [tenant, stats] of recorder.tenants)
    results[tenant] = {
      succeeded: stats.succeeded,
      failed: stats.failed,
      share: recorder.succeeded === 0 ? 0 : stats.succeeded / recorder.succeeded,
      byStatus: Object.fromEntries(stats.byStatus),
      latencyMs: stats.latency.summary(),
    };
  return results;
}

export function buildResult(
  options: LoadTestOptions,
  body: string,
  startedAt: Date,
  elapsedS: number,
  recorder: Recorder,
  capacity: Capacity,
  interrupted: boolean,
): LoadTestResult {
  const completed = recorder.completed;
  // No answer at all is a failed run, not a perfect one.
  const errorRate = completed === 0 ? 1 : recorder.failed / completed;
  const throughput = recorder.throughput();
  const timing = recorder.serverTiming();
  return {
    tool: "redis-stream-demo/load-test",
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    options: {
      mode: options.mode,
      url: options.url,
      count: options.count ?? null,
      durationS: options.durationS ?? null,
      warmupS: options.warmupS,
      concurrency: options.concurrency,
      rate: options.rate ?? null,
      timeoutS: options.timeoutS,
      async: options.async,
      processingMs: options.processingMs ?? null,
      payloadBytes: Buffer.byteLength(body),
    },
    elapsedS,
    totals: {
      sent: recorder.sent,
      completed,
      succeeded: recorder.succeeded,
      failed: recorder.failed,
      warmupRequests: recorder.warmupRequests,
      errorRate,
      byStatus: Object.fromEntries(recorder.byStatus),
      byCause: Object.fromEntries(recorder.byCause),
    },
    throughput: { windowS: recorder.windowSeconds(), ...throughput },
    latencyMs: recorder.latencySummary(),
    percentiles: recorder.latency.percentileCurve(),
    histogram: recorder.latency.bucketCounts(),
    hdrHistogram: recorder.latency.encoded(),
    timeline: recorder.timeline(),
    concurrency: { peakInFlight: recorder.peakInFlight },
    scheduleLag:
      options.mode === "rate"
        ? { p99Ms: recorder.scheduleLag.percentileMs(99), maxMs: recorder.scheduleLag.summary().maxMs }
        : null,
    server: {
      fleet: capacity.fleet,
      theoreticalRps: capacity.theoreticalRps,
      capacityBasis: capacity.basis,
      efficiency: capacity.theoreticalRps ? throughput.succeededPerS / capacity.theoreticalRps : null,
      pods: Object.fromEntries(recorder.pods),
      meanQueuedMs: timing?.queuedMs ?? null,
      meanProcessingMs: timing?.processingMs ?? null,
    },
    verdict: {
      maxErrorRate: options.maxErrorRate,
      errorRate,
      passed: errorRate <= options.maxErrorRate && !interrupted,
      interrupted,
    },
    tenants: tenantResults(recorder),
  };
}
