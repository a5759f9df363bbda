import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";

/**
 * The dead-letter stream (`<prefix>:dead`). Dead letters are added with the request's other
 * outcome writes (Completions), capped there by count; here they are bounded by age.
 */
export class DeadLetters {
  private readonly client: RedisClient;
  private readonly keys: StreamKeys;

  constructor(options: { client: RedisClient; keys: StreamKeys }) {
    this.client = options.client;
    this.keys = options.keys;
  }

  /**
   * Removes the dead letters older than `maxAgeS`; returns how many went. Stream ids are
   * milliseconds of Redis's clock, so the bound is computed from Redis's TIME, not this machine's.
   */
  async trimOlderThan(maxAgeS: number): Promise<number> {
    const nowS = Math.floor((await this.client.time()) / 1000);
    return await this.client.xtrim(this.keys.dead, { minId: `${(nowS - maxAgeS) * 1000}-0` });
  }
}
