/**
 * The fragile backend's behaviour, as pure functions of its settings and its state, so the server
 * stays a thin shell and the bench can reason about the same numbers.
 */
export interface FragileSettings {
  /** Latency of one call while at most `knee` calls run at once, ms. */
  baseMs: number;
  /** Concurrent calls the backend takes without slowing down. */
  knee: number;
  /** Past this many concurrent calls every call fails with 500 (0 = 2 × knee). */
  errorAt: number;
  /** ± this fraction of random noise on every latency (0 = none). */
  noise: number;
  /** Calls per second answered before 429 + Retry-After (0 = no quota). */
  quotaRps: number;
}

export type Verdict =
  | { kind: "ok"; delayMs: number }
  | { kind: "error"; delayMs: number }
  | { kind: "throttled"; retryAfterS: number }
  | { kind: "outage" };

/** Latency with `concurrent` calls running (this one included): flat up to the knee, then quadratic. */
export function latencyMs(settings: FragileSettings, concurrent: number, random = Math.random): number {
  const over = Math.max(1, concurrent / Math.max(1, settings.knee));
  const jitter = 1 + settings.noise * (2 * random() - 1);
  return Math.max(0, settings.baseMs * over * over * jitter);
}

export function errorThreshold(settings: FragileSettings): number {
  return settings.errorAt > 0 ? settings.errorAt : 2 * settings.knee;
}
