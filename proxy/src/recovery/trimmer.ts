import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";

import "../scripts/index.ts";

/**
 * Trims the request stream below the oldest entry that still matters: the oldest pending one,
 * or, when nothing is pending, the first undelivered one (XTRIM MINID), and deletes acknowledged
 * entries behind a long-running one page by page (XDEL), so one slow request cannot pin the
 * stream's length. Acknowledged entries go; an unacknowledged request is never dropped. The bound is read and applied in one script on
 * the stream's own node (scripts/trim.lua), so it cannot come from another stream or go stale.
 */
export class Trimmer {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
  ) {}

  /** Trims every shard; one that cannot be reached is skipped until the next round. */
  async run(): Promise<void> {
    for (const stream of this.keys.requestStreams) await this.trim(stream).catch(() => undefined);
  }

  /** The MINID used on `stream`, or undefined when there was nothing to do (see scripts/trim.lua). */
  async trim(stream: string = this.keys.requests, page = 2000): Promise<string | undefined> {
    return (await this.redis.rsdTrim(stream, this.keys.group, page)) ?? undefined;
  }
}

/**
 * Keeps the dead letters bounded by age as well as by count (the count is capped on every XADD,
 * see ReplyWriter): entries older than DEAD_LETTER_MAX_AGE_S go. Stream ids are milliseconds of
 * Redis's clock, so the bound is computed from Redis's TIME, not from this pod's clock.
 */
export class DeadLetterTrimmer {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly maxAgeS: number,
  ) {}

  /** Removes the dead letters older than the age bound; returns how many went. */
  async run(): Promise<number> {
    const [seconds] = await this.redis.time();
    const minId = `${(Number(seconds) - this.maxAgeS) * 1000}-0`;
    return await this.redis.xtrim(this.keys.dead, "MINID", minId);
  }
}
