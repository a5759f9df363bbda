import { ProtocolOperations } from "./operations.ts";

/** Who owns an idempotency key: the request id and the hash of the request that claimed it. */
export interface IdempotencyOwner {
  requestId: string;
  hash: string;
}

/**
 * Idempotency keys (`<prefix>:idem:<key>` → `<request id> <request hash>`), claimed atomically
 * with SET NX. What a key may look like, and what a different hash means, is the ingress's rule.
 */
export class IdempotencyStore extends ProtocolOperations {
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

  /**
   * Deletes the key only while it still names `requestId`. Read, then delete: the value changes
   * only when its owner deletes it or it expires (RESULT_TTL_S), so another request's claim is
   * removed only if the key expired and was claimed again in between. (The ingress's ACL user has
   * no EVAL for a compare-and-delete script.)
   */
  async releaseIfOwner(key: string, requestId: string, tenant?: string): Promise<boolean> {
    const redisKey = this.keys.idempotency(key, tenant);
    const value = await this.client.get(redisKey);
    if (value === null || value.split(" ")[0] !== requestId) return false;
    await this.client.del([redisKey]);
    return true;
  }

  /** Resolves true once the connection is up again, false when `timeoutMs` passes or `signal` aborts. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.client.waitUntilReady(timeoutMs, signal);
  }
}
