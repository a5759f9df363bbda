import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";

/** Who owns an idempotency key: the request id and the hash of the request that claimed it. */
export interface IdempotencyOwner {
  requestId: string;
  hash: string;
}

/**
 * Idempotency keys (`<prefix>:idem:<key>` → `<request id> <request hash>`), claimed atomically
 * with SET NX. What a key may look like, and what a different hash means, is the ingress's rule.
 */
export class IdempotencyStore {
  private readonly client: RedisClient;
  private readonly keys: StreamKeys;

  constructor(options: { client: RedisClient; keys: StreamKeys }) {
    this.client = options.client;
    this.keys = options.keys;
  }

  /**
   * Undefined when `owner` now holds the key; otherwise the one that held it already. Keys are
   * per `tenant` (undefined = `default`): another tenant's identical key is another key.
   */
  async claim(
    key: string,
    owner: IdempotencyOwner,
    ttlS: number,
    tenant?: string,
  ): Promise<IdempotencyOwner | undefined> {
    const redisKey = this.keys.idempotency(key, tenant);
    for (;;) {
      const value = `${owner.requestId} ${owner.hash}`;
      if (await this.client.set(redisKey, value, { ttlS, onlyIfAbsent: true })) return undefined;
      const existing = await this.client.get(redisKey);
      if (existing === null) continue; // expired in between: claim it again
      const [requestId = "", hash = ""] = existing.split(" ");
      return { requestId, hash };
    }
  }

  async release(key: string, tenant?: string): Promise<void> {
    await this.client.del([this.keys.idempotency(key, tenant)]);
  }
}
