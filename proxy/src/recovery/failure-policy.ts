import {
  defaultUrgency,
  type EntryRef,
  type Logger,
  noTerminal,
  type RequestMessage,
  type RequestQueue,
  refKey,
  traceIdOf,
} from "@rsd/shared";
import { BackendPausedError, UnrecoverableError } from "../handlers/handler.ts";
import type { ProxyMetrics } from "../metrics.ts";
import type { ReplyWriter } from "../reply-writer.ts";

export interface FailurePolicyOptions {
  /** Where retries go back to (the pod's command connection). */
  queue: RequestQueue;
  /** This pod: the consumer that holds the entries it decides about. */
  pod: string;
  /** MAX_DELIVERIES: attempts before a request is dead-lettered. */
  maxDeliveries: number;
  writer: Pick<ReplyWriter, "answer">;
  metrics: Pick<ProxyMetrics, "countProcessed">;
  logger: Logger;
  /** BACKEND_PAUSE=on: told of every pause the backend asks for (protection/pause-gate.ts). */
  pauses?: { paused(ms: number): void } | undefined;
  /**
   * Counts every retry Redis refused or could not take (rsd_proxy_reply_write_failures_total,
   * with the writer's batches): on a full Redis that is the first write to fail, and the one an
   * operator must see.
   */
  failures: { inc(): void };
  /**
   * The urgency of the lane an entry was read from (StreamKeys.urgencyOf), kept in its dead letter
   * so a replay goes back at that priority.
   */
  urgencyOf: (stream: string) => number;
}

/**
 * What happens to a request whose attempt did not produce a result: retried at once (after a
 * short jittered backoff) while attempts remain, dead-lettered with a failed reply after
 * MAX_DELIVERIES attempts, answered `expired` once its deadline has passed. Every attempt counts,
 * whether it ended in an error or in its pod dying (the reclaimer brings those here).
 */
export class FailurePolicy {
  private readonly backoffs = new Map<
    string,
    { entry: EntryRef; timer: ReturnType<typeof setTimeout>; run: () => Promise<void> }
  >();

  private readonly queue: RequestQueue;
  private readonly pod: string;
  private readonly maxDeliveries: number;
  private readonly writer: Pick<ReplyWriter, "answer">;
  private readonly metrics: Pick<ProxyMetrics, "countProcessed">;
  private readonly logger: Logger;
  private readonly pauses: FailurePolicyOptions["pauses"];
  private readonly failures: FailurePolicyOptions["failures"];
  private readonly urgencyOf: FailurePolicyOptions["urgencyOf"];

  constructor(options: FailurePolicyOptions) {
    this.failures = options.failures;
    this.urgencyOf = options.urgencyOf;
    this.pauses = options.pauses;
    this.queue = options.queue;
    this.pod = options.pod;
    this.maxDeliveries = options.maxDeliveries;
    this.writer = options.writer;
    this.metrics = options.metrics;
    this.logger = options.logger;
  }

  /** Entries waiting out their backoff (still pending for this consumer: their claim is kept fresh). */
  get waiting(): EntryRef[] {
    return [...this.backoffs.values()].map(({ entry }) => entry);
  }

  /** An attempt failed with `error`. */
  failed(entry: EntryRef, message: RequestMessage, error: unknown): void {
    if (error instanceof BackendPausedError && this.pauses) {
      // Not an attempt: the backend did not run it. Back to the queue, unread until the pause ends.
      this.pauses.paused(error.pauseMs);
      this.metrics.countProcessed("error");
      void this.retry(entry, message, true);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof UnrecoverableError || message.attempt >= this.maxDeliveries) {
      this.deadLetter(entry, message, reason);
      return;
    }
    this.metrics.countProcessed("error");
    this.logger.info("attempt failed, retrying", {
      traceId: traceIdOf(message.traceparent),
      requestId: message.id,
      attempt: message.attempt,
      error: reason,
    });
    const delay = Math.round(20 * message.attempt * (0.5 + Math.random()));
    const run = async () => {
      this.backoffs.delete(key);
      await this.retry(entry, message);
    };
    const key = refKey(entry);
    this.backoffs.set(key, { entry, timer: setTimeout(() => void run(), delay), run });
  }

  /**
   * The deadline passed before or during processing: answer `expired`, never retry. `terminal`
   * is the one that ran it, or noTerminal when none did.
   */
  expired(entry: EntryRef, message: RequestMessage, terminal: number, processingMs: number): void {
    this.metrics.countProcessed("expired");
    this.writer.answer(entry, message, {
      status: "expired",
      error: "deadline passed",
      pod: this.pod,
      terminal,
      queuedMs: Math.max(0, Date.now() - message.enqueuedAt - processingMs),
      processingMs,
    });
  }

  deadLetter(entry: EntryRef, message: RequestMessage, reason: string): void {
    this.metrics.countProcessed("dead");
    const urgency = this.urgencyOf(entry.stream);
    this.logger.warn("request dead-lettered", {
      traceId: traceIdOf(message.traceparent),
      requestId: message.id,
      attempts: message.attempt,
      error: reason,
    });
    this.writer.answer(
      entry,
      message,
      {
        status: "failed",
        error: `failed after ${message.attempt} attempt(s): ${reason}`,
        pod: this.pod,
        terminal: noTerminal,
        queuedMs: 0,
        processingMs: 0,
      },
      {
        requestId: message.id,
        entry: entry.id,
        attempts: message.attempt,
        error: reason,
        failedAt: Date.now(),
        payload: message.payload,
        // The whole request, so an operator can replay it as it was (a fresh attempt and deadline).
        request: message,
        ...(message.tenant !== undefined ? { tenant: message.tenant } : {}),
        ...(urgency !== defaultUrgency ? { urgency } : {}),
      },
    );
  }

  /** Runs every waiting retry now (at shutdown, so no request waits on a timer of a dying process). */
  async flush(): Promise<void> {
    const waiting = [...this.backoffs.values()];
    for (const { timer } of waiting) clearTimeout(timer);
    await Promise.all(waiting.map(({ run }) => run()));
  }

  private async retry(entry: EntryRef, message: RequestMessage, sameAttempt = false): Promise<void> {
    try {
      const moved = await this.queue.requeue({ pod: this.pod, entry, message, sameAttempt });
      if (!moved)
        this.logger.debug("retry skipped: entry was reclaimed by another consumer", { entryId: entry.id });
    } catch (error) {
      // Redis is away or full: the entry stays pending for this consumer and the reclaimer
      // retries it later.
      this.failures.inc();
      this.logger.warn("requeue failed; the reclaimer will pick the request up", {
        requestId: message.id,
        error,
      });
    }
  }
}
