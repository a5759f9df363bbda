import type { ReplyMessage, StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";
import type { PendingRecord, StoredRecord } from "./outcome.ts";

/**
 * The stored outcomes of async and idempotent requests (`<prefix>:result:<id>`): `pending` at
 * enqueue, replaced by the proxy's reply. They let a client poll, and let a duplicate request
 * with the same Idempotency-Key wait for the first one's outcome.
 */
export class ResultStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly ttlS: number,
  ) {}

  async markPending(record: PendingRecord): Promise<void> {
    await this.redis.set(this.keys.result(record.id), JSON.stringify(record), "EX", this.ttlS);
  }

  async read(id: string): Promise<StoredRecord | undefined> {
    const text = await this.redis.get(this.keys.result(id));
    return text === null ? undefined : (JSON.parse(text) as StoredRecord);
  }

  async remove(id: string): Promise<void> {
    await this.redis.del(this.keys.result(id));
  }

  /** Polls until the stored outcome is final or `deadline` passes (used by duplicate requests). */
  async waitForFinal(id: string, deadline: number, signal: AbortSignal): Promise<ReplyMessage | undefined> {
    let delay = 10;
    while (Date.now() < deadline && !signal.aborted) {
      const record = await this.read(id);
      if (record && record.status !== "pending") return record;
      await Bun.sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
      delay = Math.min(delay * 2, 200);
    }
    return undefined;
  }
}

export function isFinal(record: StoredRecord | undefined): record is ReplyMessage {
  return record !== undefined && record.status !== "pending";
}
