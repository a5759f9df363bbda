import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";
import { type EntryRef, idsByStream } from "../entry-ref.ts";

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
    private readonly held: () => EntryRef[],
  ) {}

  async refresh(): Promise<void> {
    for (const [stream, ids] of idsByStream(this.held())) {
      await this.redis.xclaim(stream, this.keys.group, this.consumer, 0, ...ids, "JUSTID");
    }
  }
}
