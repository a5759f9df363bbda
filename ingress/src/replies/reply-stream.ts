import type { Logger } from "@rsd/shared";
import type Redis from "ioredis";

/**
 * Keeps this ingress's reply stream alive: creates it explicitly (EXPIRE on a missing key does
 * nothing, and proxies write with NOMKSTREAM so a dead ingress's stream is not resurrected),
 * re-creates it after Redis came back empty, refreshes its TTL, trims what was read, and caps it.
 *
 * The cap lives here, in each maintenance round, rather than as `MAXLEN` on every reply: four
 * more arguments on the proxy's per-request XADD cost it about 0.4 µs (Bun's client pays ~85 ns
 * per argument), and only the owner can be stuck in a way that needs it (a reply loop that stops
 * advancing). The stream then holds at most `maxLength` plus one round's replies; a vanished
 * owner's stream expires with its TTL, and nothing can recreate it (NOMKSTREAM).
 */
export class ReplyStream {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlS: number,
    private readonly logger: Logger,
    private readonly maxLength = 10_000,
  ) {}

  /** One maintenance round; `readUpTo` is the reply loop's position. True when it created the stream. */
  async maintain(readUpTo: string): Promise<boolean> {
    const refreshed = await this.redis.expire(this.key, this.ttlS);
    if (refreshed === 0) {
      await this.redis
        .multi()
        .xadd(this.key, "*", "created", String(Date.now()))
        .expire(this.key, this.ttlS)
        .exec();
      this.logger.info("reply stream created", { stream: this.key });
      return true;
    }
    // Everything before the loop's position has been dispatched already; the cap holds even if
    // that position stops moving.
    // LIMIT 0: an approximate trim otherwise frees at most 10,000 entries per call, fewer than a
    // busy ingress receives between two rounds.
    await Promise.all([
      this.redis.xtrim(this.key, "MINID", "~", readUpTo, "LIMIT", 0),
      this.redis.xtrim(this.key, "MAXLEN", "~", this.maxLength, "LIMIT", 0),
    ]);
    return false;
  }

  /** Removes the stream when the ingress stops for good: nobody will read it again. */
  async remove(): Promise<void> {
    await this.redis.del(this.key);
  }
}
