import type { LaneEntry, LaneQueue } from "@rsd/shared";

/**
 * How a shard's reader takes work when TENANT_LANES is on (the consumer's `lanes` hook): one
 * dispatch script call picks up to `count` entries across the shard's lanes by weighted fairness
 * and reads them; when it finds nothing, the reader blocks until the shard's default lane or its
 * bell gets an entry (from the ids the dispatch returned, so nothing that landed in between is
 * missed), then returns empty so the loop dispatches again.
 *
 * Anticipation (LANE_HOLD_MS > 0): when the dispatch keeps terminals for an under-share tenant's
 * next request, they stay free for at most `holdMs` in all (one episode); its first enqueue
 * rings the bell and the next dispatch gives it the terminal. When the episode runs out, one
 * dispatch without holding hands them to whoever waits, and the next may hold again.
 */
export class LaneReader {
  private holdUntil: number | undefined;
  private mayHold = true;

  constructor(
    /** Over the reader's own blocking connection: the waits block it. */
    private readonly lanes: LaneQueue,
    private readonly shard: number,
    private readonly holdMs = 0,
  ) {}

  async read(pod: string, count: number, blockMs: number): Promise<LaneEntry[]> {
    const hold = this.holdMs > 0 && this.mayHold;
    this.mayHold = true;
    const dispatched = await this.lanes.dispatch(this.shard, pod, count, hold);
    const { entries, wakeAfter } = dispatched;
    if (dispatched.held > 0 && wakeAfter) {
      const now = Date.now();
      this.holdUntil ??= now + this.holdMs;
      const left = this.holdUntil - now;
      // The entries picked now start at once; the held terminals wait, here, in the next round.
      if (entries.length > 0) return entries;
      if (left > 0 && (await this.lanes.waitForWork(this.shard, wakeAfter, left))) return [];
      this.holdUntil = undefined;
      this.mayHold = false;
      return [];
    }
    this.holdUntil = undefined;
    if (entries.length > 0 || !wakeAfter) return entries;
    await this.lanes.waitForWork(this.shard, wakeAfter, blockMs);
    return [];
  }
}
