import type { LaneEntry, LaneQueue } from "@rsd/shared";

/**
 * How a shard's reader takes work when TENANT_LANES is on (the consumer's `lanes` hook): one
 * dispatch script call picks up to `count` entries across the shard's lanes by weighted fairness
 * and reads them; when it finds nothing, the reader blocks until the shard's default lane or its
 * bell gets an entry (from the ids the dispatch returned, so nothing that landed in between is
 * missed), then returns empty so the loop dispatches again.
 */
export class LaneReader {
  constructor(
    /** Over the reader's own blocking connection: the idle wait blocks it. */
    private readonly lanes: LaneQueue,
    private readonly shard: number,
  ) {}

  async read(pod: string, count: number, blockMs: number): Promise<LaneEntry[]> {
    const dispatched = await this.lanes.dispatch(this.shard, pod, count);
    if (dispatched.entries.length > 0 || !dispatched.wakeAfter) return dispatched.entries;
    await this.lanes.waitForWork(this.shard, dispatched.wakeAfter, blockMs);
    return [];
  }
}
