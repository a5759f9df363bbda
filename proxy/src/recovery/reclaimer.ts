import {
  decodeRequest,
  type EntryRef,
  type Logger,
  MalformedMessageError,
  noTerminal,
  type RequestQueue,
  type StreamEntry,
} from "@rsd/shared";
import type { ProxyMetrics } from "../metrics.ts";
import type { ReplyWriter } from "../reply-writer.ts";
import type { FailurePolicy } from "./failure-policy.ts";

export interface ReclaimerOptions {
  /** The pod's command connection. */
  queue: RequestQueue;
  /** This pod: taken-over entries are claimed to it. */
  pod: string;
  /** CLAIM_IDLE_MS: entries idle longer than this belong to a consumer that stopped. */
  claimIdleMs: number;
  policy: FailurePolicy;
  writer: ReplyWriter;
  metrics: ProxyMetrics;
  logger: Logger;
  /** The streams to look at (TENANT_LANES: the shard streams and their active lanes); default the shard streams. */
  streams?: () => Promise<readonly string[]>;
}

/**
 * Takes over requests whose consumer stopped working on them: entries idle longer than
 * CLAIM_IDLE_MS (running work keeps its claim fresh, so only a dead or stuck consumer's entries
 * qualify). A taken-over entry is not run here: it goes back to the end of the queue for its next
 * attempt (or to the dead letters when its attempts are used up), so it waits for a free
 * terminal like any other request. This runs on its own timer and connection, never behind the
 * blocking read, so it works while every terminal is busy.
 */
export class Reclaimer {
  private rounds = 0;

  constructor(private readonly options: ReclaimerOptions) {}

  /** One round over every shard: claim idle entries page by page (bounded), now and then forget dead consumers. */
  async run(): Promise<void> {
    const forget = ++this.rounds % 10 === 0;
    const streams = this.options.streams
      ? await this.options.streams()
      : this.options.queue.keys.requestStreams;
    for (const stream of streams) {
      try {
        await this.reclaimFrom(stream);
        if (forget) await this.forgetDeadConsumers(stream);
      } catch (error) {
        // One unreachable shard must not stop the others' recovery.
        this.options.logger.warn("reclaiming failed", { stream, error });
      }
    }
  }

  private async reclaimFrom(stream: string): Promise<void> {
    const { queue, pod, claimIdleMs } = this.options;
    let cursor = "0-0";
    for (let page = 0; page < 10; page++) {
      const claimed = await queue.claimIdle({ stream, pod, minIdleMs: claimIdleMs, cursor, count: 100 });
      for (const entry of claimed.entries) this.recover(stream, entry);
      // Pending entries whose data is gone (trimmed or deleted) can only be acknowledged.
      if (claimed.deleted.length > 0) await queue.ack(claimed.deleted.map((id) => ({ stream, id })));
      cursor = claimed.next;
      if (cursor === "0-0") break;
    }
  }

  /** An entry of a consumer that stopped: the attempt it was on counts as failed. */
  recover(stream: string, [entryId, fields]: StreamEntry): void {
    const { queue, pod, policy, writer, metrics, logger } = this.options;
    metrics.reclaimed.inc();
    const entry: EntryRef = { stream, id: entryId };
    if (!fields) {
      // The entry's data is gone (deleted); only its pending record is left to acknowledge.
      void queue.ack([entry]).catch(() => {});
      return;
    }
    try {
      const message = decodeRequest(fields);
      if (Date.now() >= message.deadline) {
        policy.expired(entry, message, noTerminal, 0);
        return;
      }
      logger.info("reclaimed request of a stopped consumer", {
        requestId: message.id,
        attempt: message.attempt,
      });
      policy.failed(entry, message, new Error("the proxy processing it stopped"));
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      logger.warn("malformed entry acknowledged and dropped", { entryId, error });
      writer.write({
        entry,
        replyTo: "",
        resultTtlS: 0,
        reply: { id: "", status: "failed", pod, terminal: noTerminal, queuedMs: 0, processingMs: 0 },
        deadLetter: { entry: entryId, error: error.message, failedAt: Date.now() },
      });
    }
  }

  /**
   * Removes consumers that own nothing and have not been seen for a long time (pods that are
   * gone), so XINFO CONSUMERS stays readable. A live consumer that is removed by mistake is
   * recreated by its next XREADGROUP.
   */
  private async forgetDeadConsumers(stream: string): Promise<void> {
    const { queue, pod, claimIdleMs, logger } = this.options;
    const removed = await queue.forgetConsumers(stream, pod, Math.max(60_000, 10 * claimIdleMs));
    for (const name of removed) logger.info("removed a gone consumer", { stream, consumer: name });
  }
}
