import { type Env, readEnum, readInt } from "./config-parse.ts";

/**
 * The backend protections' variables (docs/contract.md, "Environment variables"): every one is
 * off by default, so a proxy without them behaves as before.
 */
export interface BreakerConfig {
  /** Failed share of calls (percent) over the window that opens the breaker. */
  failureRatePercent: number;
  /** Calls the window needs before the rate counts. */
  minCalls: number;
  windowMs: number;
  /** How long it stays open before half-open probes. */
  openMs: number;
  /** Probe calls per second the whole fleet makes while half-open. */
  probes: number;
}

export interface ProtectionConfig {
  concurrencyLimit: "fixed" | "adaptive";
  /** Floor of the adaptive limit. */
  minTerminals: number;
  /** Fleet-wide calls per second toward the backend (0 = no limit). */
  rateLimitRps: number;
  rateLimitBurst: number;
  /** Honour 429 / 503 + Retry-After by pausing the whole fleet (BACKEND_PAUSE=on). */
  backendPause: boolean;
  /** undefined = BREAKER=off. */
  breaker: BreakerConfig | undefined;
}

const onOff = ["on", "off"] as const;

export function readBreakerSwitch(env: Env): boolean {
  return readEnum(env, "BREAKER", "off", onOff) === "on";
}

export function readBreaker(env: Env): BreakerConfig | undefined {
  if (!readBreakerSwitch(env)) return undefined;
  return {
    failureRatePercent: readInt(env, "BREAKER_FAILURE_RATE", 50, 1, 100),
    minCalls: readInt(env, "BREAKER_MIN_CALLS", 20, 1, 1_000_000),
    windowMs: readInt(env, "BREAKER_WINDOW_MS", 10_000, 100, 3_600_000),
    openMs: readInt(env, "BREAKER_OPEN_MS", 5_000, 100, 3_600_000),
    probes: readInt(env, "BREAKER_PROBES", 3, 1, 1000),
  };
}

export function readProtection(env: Env, terminals: number): ProtectionConfig {
  const rateLimitRps = readInt(env, "RATE_LIMIT_RPS", 0, 0, 1_000_000);
  return {
    concurrencyLimit: readEnum(env, "CONCURRENCY_LIMIT", "fixed", ["fixed", "adaptive"] as const),
    minTerminals: readInt(env, "MIN_TERMINALS", 1, 1, terminals),
    rateLimitRps,
    rateLimitBurst: readInt(env, "RATE_LIMIT_BURST", 1, 1, 1_000_000),
    backendPause: readEnum(env, "BACKEND_PAUSE", "off", onOff) === "on",
    breaker: readBreaker(env),
  };
}
