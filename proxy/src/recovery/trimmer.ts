import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";

type PendingSummary = [count: number, smallest: string | null, largest: string | null, consumers: unknown];

/** The id right after `id` ("5-3" → "5-4"): everything at or after it is undelivered. */
export function nextId(id: string): string {
  const [ms, seq] = id.split("-");
  return `${ms}-${BigInt(seq ?? "0") + 1n}`;
}

/**
 * Trims the request stream below the oldest entry that still matters: the oldest pending one,
 * or, when nothing is pending, the first undelivered one (XTRIM MINID). Acknowledged entries go;
 * an unacknowledged request is never dropped. Pending entries only ever come from delivered
 * ones and deliveries only move forward, so the bound read here stays safe until XTRIM runs.
 */
export class Trimmer {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
  ) {}

  /** Trims every shard; one that cannot be reached is skipped until the next round. */
  async run(): Promise<void> {
    for (const stream of this.keys.requestStreams) await this.trim(stream).catch(() => undefined);
  }

  /** The MINID used on `stream`, or undefined when there was nothing to do. */
  async trim(stream: string = this.keys.requests): Promise<string | undefined> {
    const groups = (await this.redis.xinfo("GROUPS", stream).catch(() => [])) as unknown[][];
    const group = groups
      .map((info) => {
        const record: Record<string, unknown> = {};
        for (let index = 0; index + 1 < info.length; index += 2)
          record[String(info[index])] = info[index + 1];
        return record;
      })
      .find((record) => record.name === this.keys.group);
    if (!group) return undefined;
    const lastDelivered = String(group["last-delivered-id"]);
    if (lastDelivered === "0-0") return undefined;
    const [count, smallest] = (await this.redis.xpending(
      this.keys.requests,
      this.keys.group,
    )) as PendingSummary;
    const minId = count > 0 && smallest ? smallest : nextId(lastDelivered);
    await this.redis.xtrim(this.keys.requests, "MINID", minId);
    return minId;
  }
}
