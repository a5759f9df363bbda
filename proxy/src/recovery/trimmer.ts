import type { RequestQueue } from "@rsd/shared";

/**
 * Trims every request stream below the oldest entry that still matters (see the protocol's
 * scripts/trim.lua): acknowledged entries go, an unacknowledged request is never dropped.
 */
export class Trimmer {
  constructor(private readonly queue: RequestQueue) {}

  /** Trims every shard; one that cannot be reached is skipped until the next round. */
  async run(): Promise<void> {
    for (const stream of this.queue.keys.requestStreams) await this.queue.trim(stream).catch(() => undefined);
  }
}
