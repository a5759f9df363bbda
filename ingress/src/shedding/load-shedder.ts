import type { StreamStats } from "@rsd/shared";

/**
 * Decides, without touching Redis, whether to refuse a request: the request stream's lag is
 * read by a periodic task (every ~100 ms, not per request) and compared to MAX_QUEUE_DEPTH.
 * Refusing at the door keeps the queue short enough that accepted requests meet their deadline.
 */
export class LoadShedder {
  /** A lag snapshot older than this is not trusted for shedding (the poll is failing). */
  private static readonly staleAfterMs = 2000;
  /** The poll refreshes the lag ten times a second: one second is plenty for a client to back off. */
  readonly retryAfterS = 1;

  constructor(
    private readonly stats: StreamStats,
    private readonly maxQueueDepth: number,
  ) {}

  get enabled(): boolean {
    return this.maxQueueDepth > 0;
  }

  /** The lag that triggered shedding, or undefined when the request may go in. */
  overloadedBy(now = Date.now()): number | undefined {
    const snapshot = this.stats.latest;
    if (!this.enabled || !snapshot || now - snapshot.readAt > LoadShedder.staleAfterMs) return undefined;
    return snapshot.lag > this.maxQueueDepth ? snapshot.lag : undefined;
  }
}
