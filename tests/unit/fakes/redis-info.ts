import type { RedisClient } from "@rsd/shared";

/** The masters' `INFO memory` replies, as RedisMemory reads them, set by the test. */
export class FakeMemoryInfo implements Pick<RedisClient, "infoEveryMaster"> {
  /** One `{ used, max }` per master, in bytes; max 0 is a Redis without maxmemory. */
  masters: { used: number; max: number }[] = [];

  async infoEveryMaster(section: string): Promise<string[]> {
    if (section !== "memory") throw new Error(`unexpected INFO section ${section}`);
    return this.masters.map(
      ({ used, max }) =>
        `# Memory\r\nused_memory:${used}\r\nused_memory_human:${used}B\r\nmaxmemory:${max}\r\nmaxmemory_policy:noeviction\r\n`,
    );
  }
}
