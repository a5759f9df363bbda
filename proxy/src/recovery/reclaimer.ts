import {
  decodeRequest,
  type Logger,
  MalformedMessageError,
  type StreamEntry,
  type StreamKeys,
} from "@rsd/shared";
import type Redis from "ioredis";
import type { EntryRef } from "../entry-ref.ts";
import type { ProxyMetrics } from "../metrics.ts";
import type { ReplyWriter } from "../reply-writer.ts";
import type { FailurePolicy } from "./failure-policy.ts";

type AutoClaimReply = [next: string, entries: (StreamEntry | null)[], deleted?: string[]];

/**
 * Takes over requests whose consumer stopped working on them: entries idle longer than
 * CLAIM_IDLE_MS (running work keeps its claim fresh, so only a dead or stuck consumer's entries
 * qualify). A taken-over entry is not run here: it goes back to the end of the queue for its next
 * attempt (or to the dead letters when its attempts are used up), so it waits for a free
 * terminal like any other request. This runs on its own timer and connection use, never
 * behind the blocking read, so it works while every terminal is busy.
 */
export class Reclaimer {
  private rounds = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly consumer: string,
    private readonly claimIdleMs: number,
    private readonly policy: FailurePolicy,
    private readonly writer: ReplyWriter,
    private readonly metrics: ProxyMetrics,
    private readonly logger: Logger,
  ) {}

  /** One round over every shard: claim idle entries page by page (bounded), now and then forget dead consumers. */
  async run(): Promise<void> {
    const forget = ++this.rounds % 10 === 0;
    for (const stream of this.keys.requestStreams) {
      try {
        await this.reclaimFrom(stream);
        if (forget) await this.forgetDeadConsumers(stream);
      } catch (error) {
        // One unreachable shard must not stop the others' recovery.
        this.logger.warn("reclaiming failed", { stream, error });
      }
    }
  }

  private async reclaimFrom(stream: string): Promise<void> {
    let cursor = "0-0";
    for (let page = 0; page < 10; page++) {
      const [next, entries, deleted = []] = (await this.redis.xautoclaim(
        stream,
        this.keys.group,
        this.consumer,
        this.claimIdleMs,
        cursor,
        "COUNT",
        100,
      )) as AutoClaimReply;
      for (const entry of entries) if (entry) this.recover(stream, entry);
      // Pending entries whose data is gone (trimmed or deleted) can only be acknowledged.
      if (deleted.length > 0) await this.redis.xack(stream, this.keys.group, ...deleted);
      cursor = next;
      if (cursor === "0-0") break;
    }
  }

  /** An entry of a consumer that stopped: the attempt it was on counts as failed. */
  recover(stream: string, [entryId, fields]: StreamEntry): void {
    this.metrics.reclaimed.inc();
    const entry: EntryRef = { stream, id: entryId };
    if (!fields) {
      // The entry's data is gone (deleted); only its pending record is left to acknowledge.
      void this.redis.xack(stream, this.keys.group, entryId).catch(() => {});
      return;
    }
    try {
      const message = decodeRequest(fields);
      if (Date.now() >= message.deadline) {
        this.policy.expired(entry, message, this.consumer, -1, 0);
        return;
      }
      this.logger.info("reclaimed request of a stopped consumer", {
        requestId: message.id,
        attempt: message.attempt,
      });
      this.policy.failed(entry, message, new Error("the proxy processing it stopped"), this.consumer);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.logger.warn("malformed entry acknowledged and dropped", { entryId, error });
      this.writer.write({
        entry,
        replyTo: "",
        resultTtlS: 0,
        reply: { id: "", status: "failed", pod: this.consumer, terminal: -1, queuedMs: 0, processingMs: 0 },
        deadLetter: ["entry", entryId, "error", error.message, "failedAt", String(Date.now())],
      });
    }
  }

  /**
   * Removes consumers that own nothing and have not been seen for a long time (pods that are
   * gone), so XINFO CONSUMERS stays readable. A live consumer that is removed by mistake is
   * recreated by its next XREADGROUP.
   */
  private async forgetDeadConsumers(stream: string): Promise<void> {
    const goneAfterMs = Math.max(60_000, 10 * this.claimIdleMs);
    const removed = await this.redis.rsdForgetConsumers(stream, this.keys.group, this.consumer, goneAfterMs);
    for (const name of removed) this.logger.info("removed a gone consumer", { stream, consumer: name });
  }
}
