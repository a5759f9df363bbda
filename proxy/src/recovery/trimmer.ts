import type { RequestQueue } from "@rsd/shared";

/**
 * Trims every request stream below the oldest entry that still matters (see the protocol's
 * scripts/trim.lua): acknowledged entries go, an unacknowledged request is never dropped.
 */
export class Trimmer {
  constructor(
    private readonly queue: RequestQueue,
    /** The streams to trim (TENANT_LANES: the shard streams and their active lanes); default the shard streams. */
    private readonly streams?: () => Promise<readonly string[]>,
  ) {}

  /** Trims every shard (and lane); one that cannot be reached is skipped until the next round. */
  async run(): Promise<void> {
    const streams = this.streams ? await this.streams() : this.queue.keys.requestStreams;
    for (const stream of streams) await this.queue.trim(stream).catch(() => undefined);
  }
}
