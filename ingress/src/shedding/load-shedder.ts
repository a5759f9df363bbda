import type { StreamKeys, StreamStats } from "@rsd/shared";
import type { RedisMemory } from "./redis-memory.ts";

/**
 * Decides, without touching Redis, whether to refuse a request and which request stream (shard)
 * takes it. The streams' lag is read by a periodic task (every ~100 ms, not per request):
 * - over MAX_QUEUE_DEPTH in total → shed (503 + Retry-After): refusing at the door keeps the queue
 *   short enough that accepted requests meet their deadline;
 * - Redis fuller than MAX_REDIS_MEMORY_PERCENT of its maxmemory (polled too) → shed: what is
 *   already accepted still needs room for its replies, results and dead letters;
 * - otherwise round robin over the shards, skipping one whose lag is over its share of
 *   MAX_QUEUE_DEPTH or whose Redis node did not answer the last poll.
 */
export class LoadShedder {
  /** A lag snapshot older than this is not trusted (the poll is failing). */
  private static readonly staleAfterMs = 2000;
  /** The poll refreshes the lag ten times a second: one second is plenty for a client to back off. */
  readonly retryAfterS = 1;
  private next = 0;

  constructor(
    private readonly stats: StreamStats,
    private readonly keys: StreamKeys,
    private readonly maxQueueDepth: number,
    private readonly memory?: { watcher: RedisMemory; maxPercent: number },
  ) {}

  /** The memory use (percent of maxmemory) that triggered shedding, or undefined. */
  memoryFullAt(now = Date.now()): number | undefined {
    const snapshot = this.memory?.watcher.latest;
    if (!this.memory || !snapshot || now - snapshot.readAt > LoadShedder.staleAfterMs) return undefined;
    return snapshot.percent >= this.memory.maxPercent ? snapshot.percent : undefined;
  }

  get enabled(): boolean {
    return this.maxQueueDepth > 0;
  }

  /** The lag that triggered shedding, or undefined when the request may go in. */
  overloadedBy(now = Date.now()): number | undefined {
    const snapshot = this.fresh(now);
    if (!this.enabled || !snapshot) return undefined;
    return snapshot.lag > this.maxQueueDepth ? snapshot.lag : undefined;
  }

  /** The request stream for the next request, or undefined when no shard can take it now. */
  pickStream(now = Date.now()): string | undefined {
    const streams = this.keys.requestStreams;
    if (streams.length === 1) return streams[0];
    const shards = this.fresh(now)?.shards;
    const share = this.maxQueueDepth / streams.length;
    for (let tried = 0; tried < streams.length; tried++) {
      const index = this.next++ % streams.length;
      const shard = shards?.[index];
      if (shard && (!shard.reachable || (this.enabled && shard.lag > share))) continue;
      return streams[index];
    }
    return undefined;
  }

  private fresh(now: number) {
    const snapshot = this.stats.latest;
    return snapshot && now - snapshot.readAt <= LoadShedder.staleAfterMs ? snapshot : undefined;
  }
}
