import type { Logger } from "@rsd/shared";
import type Redis from "ioredis";

/**
 * Keeps this ingress's reply stream alive: creates it explicitly (EXPIRE on a missing key does
 * nothing, and proxies write with NOMKSTREAM so a dead ingress's stream is not resurrected),
 * re-creates it after Redis came back empty, refreshes its TTL, and trims what was read.
 */
export class ReplyStream {
  constructor(
    private readonly redis: Redis,
    readonly key: string,
    private readonly ttlS: number,
    private readonly logger: Logger,
  ) {}

  /** One maintenance round; `readUpTo` is the reply loop's position. */
  async maintain(readUpTo: string): Promise<void> {
    const refreshed = await this.redis.expire(this.key, this.ttlS);
    if (refreshed === 0) {
      await this.redis
        .multi()
        .xadd(this.key, "*", "created", String(Date.now()))
        .expire(this.key, this.ttlS)
        .exec();
      this.logger.info("reply stream created", { stream: this.key });
      return;
    }
    // Everything before the loop's position has been dispatched already.
    await this.redis.xtrim(this.key, "MINID", "~", readUpTo);
  }

  /** Removes the stream when the ingress stops for good: nobody will read it again. */
  async remove(): Promise<void> {
    await this.redis.del(this.key);
  }
}
