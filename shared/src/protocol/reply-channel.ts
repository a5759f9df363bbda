import { commands, type RedisClient } from "./client/redis-client.ts";
import type { StreamEntry } from "./client/replies.ts";

export interface ReplyChannelOptions {
  client: RedisClient;
  /** The reply stream (`keys.replies(ingressId)`). */
  stream: string;
  /** The stream outlives a vanished ingress by this long, then Redis drops it. */
  ttlS: number;
  /** Cap on the entries kept (beyond one maintenance round's replies). */
  maxLength?: number;
}

/**
 * One ingress's reply stream: proxies append replies to it (with NOMKSTREAM, see Completions),
 * its ingress reads it and keeps it alive. It is created explicitly (EXPIRE on a missing key does
 * nothing, and NOMKSTREAM means a dead ingress's stream is never resurrected), re-created after
 * Redis came back empty, its TTL refreshed, what was read trimmed, and its length capped.
 *
 * The cap lives here, in each maintenance round, rather than as `MAXLEN` on every reply: four
 * more arguments on the proxy's per-request XADD cost it about 0.4 µs (Bun's client pays ~85 ns
 * per argument), and only the owner can be stuck in a way that needs it (a reply loop that stops
 * advancing). The stream then holds at most `maxLength` plus one round's replies.
 */
export class ReplyChannel {
  readonly stream: string;
  private readonly client: RedisClient;
  private readonly ttlS: number;
  private readonly maxLength: number;

  constructor(options: ReplyChannelOptions) {
    this.client = options.client;
    this.stream = options.stream;
    this.ttlS = options.ttlS;
    this.maxLength = options.maxLength ?? 10_000;
  }

  /** Up to `count` replies after `after`, blocking up to `blockMs`. */
  read(options: { after: string; count: number; blockMs: number }): Promise<StreamEntry[]> {
    return this.client.xread({ stream: this.stream, ...options });
  }

  /** One maintenance round; `readUpTo` is the reader's position. True when it created the stream. */
  async maintain(readUpTo: string): Promise<boolean> {
    if (await this.client.expire(this.stream, this.ttlS)) {
      // Everything before the reader's position has been dispatched already; the cap holds even
      // if that position stops moving. Approximate trims with LIMIT 0: otherwise one call frees
      // at most 10,000 entries, fewer than a busy ingress receives between two rounds.
      await Promise.all([
        this.client.xtrim(this.stream, { minId: readUpTo, approximate: true }),
        this.client.xtrim(this.stream, { maxLength: this.maxLength, approximate: true }),
      ]);
      return false;
    }
    await this.client.transaction([
      commands.xadd(this.stream, ["created", String(Date.now())]),
      commands.expire(this.stream, this.ttlS),
    ]);
    return true;
  }

  /** Removes the stream when its ingress stops for good: nobody will read it again. */
  async remove(): Promise<void> {
    await this.client.del([this.stream]);
  }
}
