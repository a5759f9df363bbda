import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";
import { scripts } from "./scripts/index.ts";

/** 0 closed, 1 half-open, 2 open (the values of rsd_breaker_state). */
export type BreakerStateCode = 0 | 1 | 2;

export interface BreakerReading {
  state: BreakerStateCode;
  /** Time left open, ms (0 unless open). */
  leftMs: number;
  /** Probe calls granted (probe only). */
  granted: number;
}

export interface BreakerThresholds {
  failureRatePercent: number;
  minCalls: number;
  windowMs: number;
  openMs: number;
  probes: number;
}

/**
 * The fleet's circuit breaker toward the backend (`<prefix>:breaker`): one hash and one Lua
 * script, by Redis's clock, so every proxy and ingress sees one state. Proxies report their calls'
 * outcomes in batches and ask for half-open probes; ingresses only read it.
 */
export class CircuitBreaker {
  private readonly client: RedisClient;
  private readonly key: string;

  constructor(options: { client: RedisClient; keys: StreamKeys }) {
    this.client = options.client;
    this.key = options.keys.breaker;
  }

  async read(): Promise<BreakerReading> {
    return await this.run(["read"]);
  }

  /**
   * The state without the script (for ingresses, whose Redis user may not run scripts): the hash
   * and Redis's TIME. An open breaker whose time is up reads as half-open, as the script would
   * make it on its next call.
   */
  async peek(): Promise<BreakerReading> {
    const [fields, now] = await Promise.all([this.client.hgetall(this.key), this.client.time()]);
    const state = Number(fields.state ?? 0);
    const until = Number(fields.until ?? 0);
    if (state === 2 && now < until) return { state: 2, leftMs: until - now, granted: 0 };
    return { state: state === 1 || state === 2 ? 1 : 0, leftMs: 0, granted: 0 };
  }

  /** Adds `ok` and `failed` calls; the state after them. */
  async report(ok: number, failed: number, thresholds: BreakerThresholds): Promise<BreakerReading> {
    const { windowMs, minCalls, failureRatePercent, openMs, probes } = thresholds;
    return await this.run(
      ["report", ok, failed, windowMs, minCalls, failureRatePercent, openMs, probes].map(String),
    );
  }

  /** Up to `wanted` probe calls, while half-open; at most `perSecond` fleet-wide each second. */
  async probe(wanted: number, perSecond: number): Promise<BreakerReading> {
    return await this.run(["probe", String(wanted), String(perSecond)]);
  }

  /** Probes granted this second whose request expired before any call: others may use them. */
  async giveBack(count: number): Promise<void> {
    await this.run(["giveback", String(count)]);
  }

  private async run(args: string[]): Promise<BreakerReading> {
    const reply = await this.client.runScript(scripts.breaker, this.key, args);
    const [state, leftMs, granted] = Array.isArray(reply) ? reply.map(Number) : [0, 0, 0];
    return {
      state: state === 1 || state === 2 ? state : 0,
      leftMs: Math.max(0, leftMs ?? 0),
      granted: granted ?? 0,
    };
  }
}
