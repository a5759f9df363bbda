import type { LaneEntry, LaneQueue } from "@rsd/shared";

/** After a hold nobody came for, no holding for this many hold times (anticipation backs off). */
const backOffHolds = 20;

/**
 * How a shard's reader takes work when TENANT_LANES is on (the consumer's `lanes` hook): one
 * dispatch script call picks up to `count` entries across the shard's lanes by weighted fairness
 * and reads them; when it finds nothing, the reader blocks until the shard's default lane or its
 * bell gets an entry (from the ids the dispatch returned, so nothing that landed in between is
 * missed), then returns empty so the loop dispatches again.
 *
 * Anticipation (LANE_HOLD_MS > 0): when the dispatch keeps terminals for an under-share tenant's
 * next request, they stay free for at most `holdMs` in all (one episode); that tenant's enqueue
 * rings the bell and the next dispatch gives it the terminal. An episode that runs out (nobody
 * came: the tenant's client was not about to send) hands the terminals to whoever waits, and
 * holding pauses for `backOffHolds` hold times, so a tenant whose requests are all running (it
 * cannot send more) costs at most one hold in that many — the anticipatory scheduler's own guard.
 */
export class LaneReader {
  private holdUntil: number | undefined;
  private holdAgainAt = 0;

  constructor(
    /** Over the reader's own blocking connection: the waits block it. */
    private readonly lanes: Pick<LaneQueue, "dispatch" | "waitForWork">,
    private readonly shard: number,
    private readonly holdMs = 0,
  ) {}

  async read(pod: string, count: number, blockMs: number): Promise<LaneEntry[]> {
    const hold = this.holdMs > 0 && Date.now() >= this.holdAgainAt;
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
      this.holdAgainAt = Date.now() + backOffHolds * this.holdMs;
      return [];
    }
    this.holdUntil = undefined;
    if (entries.length > 0 || !wakeAfter) return entries;
    await this.lanes.waitForWork(this.shard, wakeAfter, blockMs);
    return [];
  }
}
