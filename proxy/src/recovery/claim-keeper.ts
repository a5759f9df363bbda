import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";

/**
 * Keeps the claim on running work fresh: every third of CLAIM_IDLE_MS it re-claims the entries
 * this pod is still working on (XCLAIM … JUSTID to itself, which resets their idle time without
 * counting a delivery), so a slow terminal is never robbed mid-request by a reclaimer.
 */
export class ClaimKeeper {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly consumer: string,
    private readonly heldIds: () => string[],
  ) {}

  async refresh(): Promise<void> {
    const ids = this.heldIds();
    if (ids.length === 0) return;
    await this.redis.xclaim(this.keys.requests, this.keys.group, this.consumer, 0, ...ids, "JUSTID");
  }
}
