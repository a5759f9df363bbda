import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";
import { scripts } from "./scripts/index.ts";

/** What one take of the rate limit got: tokens, or how long until the next one. */
export interface RateGrant {
  granted: number;
  waitMs: number;
}

/**
 * The fleet-wide rate limit toward the backend (`<prefix>:ratelimit`): one GCRA in one Lua
 * script on one key, by Redis's clock, so it is atomic on a Cluster node and shared by every proxy.
 */
export class FleetRateLimit {
  private readonly client: RedisClient;
  private readonly key: string;
  private readonly interval: string;
  private readonly burst: string;

  constructor(options: { client: RedisClient; keys: StreamKeys; rps: number; burst: number }) {
    this.client = options.client;
    this.key = options.keys.rateLimit;
    this.interval = String(1000 / options.rps);
    this.burst = String(options.burst);
  }

  /** Up to `wanted` tokens (at least 1 asked). */
  async take(wanted: number): Promise<RateGrant> {
    const reply = await this.client.runScript(scripts.gcra, this.key, [
      this.interval,
      this.burst,
      String(wanted),
    ]);
    const [granted, waitMs] = Array.isArray(reply) ? reply.map(Number) : [0, 100];
    return { granted: granted ?? 0, waitMs: waitMs ?? 100 };
  }

  /** Gives back tokens that were taken and not used (fewer entries were read than asked for). */
  async giveBack(count: number): Promise<void> {
    if (count > 0)
      await this.client.runScript(scripts.gcra, this.key, [this.interval, this.burst, String(-count)]);
  }
}
