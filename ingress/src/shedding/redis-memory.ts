import type { RedisClient } from "@rsd/shared";

export interface MemorySnapshot {
  /** The fullest node's used_memory ÷ maxmemory, in percent; 0 when no node has a maxmemory. */
  percent: number;
  /** When it was read, epoch ms. */
  readAt: number;
}

/** `used_memory` and `maxmemory` from an `INFO memory` reply. */
function usage(info: string): { used: number; max: number } {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { used: field("used_memory"), max: field("maxmemory") };
}

/**
 * Polls how full Redis is (INFO memory: used_memory against maxmemory), a few times a second and
 * never per request. On a Cluster every master is asked and the fullest counts: one full shard
 * refuses its writes whatever the others hold. A Redis without maxmemory is never "full" here
 * (it grows until the machine stops it: set maxmemory in production, see docs/deploy.md).
 */
export class RedisMemory {
  latest: MemorySnapshot | undefined;

  constructor(private readonly client: Pick<RedisClient, "infoEveryMaster">) {}

  async refresh(): Promise<MemorySnapshot> {
    const infos = await this.client.infoEveryMaster("memory");
    let percent = 0;
    for (const info of infos) {
      const { used, max } = usage(info);
      if (max > 0) percent = Math.max(percent, (100 * used) / max);
    }
    this.latest = { percent, readAt: Date.now() };
    return this.latest;
  }
}
