import {
  decodeRequest,
  type Logger,
  MalformedMessageError,
  type RequestMessage,
  traceIdOf,
} from "@rsd/shared";
import type { Handler } from "./handlers/handler.ts";
import type { ProxyMetrics } from "./metrics.ts";
import type { FailurePolicy } from "./recovery/failure-policy.ts";
import type { ReplyWriter } from "./reply-writer.ts";
import type { TerminalPool } from "./terminal-pool.ts";

/**
 * Runs one delivered entry: an expired request is answered `expired` without a terminal;
 * otherwise a terminal runs the handler with the remaining time as an AbortSignal, is released
 * the moment the handler returns, and the reply goes to the batched writer.
 */
export class TerminalRunner {
  /** Entries being processed now, by entry id: their claims are kept fresh. */
  readonly running = new Map<string, number>();
  /** The most handler calls ever running at once: proves the terminal cap from the handler's side. */
  maxConcurrent = 0;

  constructor(
    private readonly pool: TerminalPool,
    private readonly handler: Handler,
    private readonly writer: ReplyWriter,
    private readonly policy: FailurePolicy,
    private readonly metrics: ProxyMetrics,
    private readonly pod: string,
    private readonly logger: Logger,
  ) {}

  /** Takes one entry from XREADGROUP. The caller read no more entries than free terminals. */
  dispatch(entryId: string, fields: string[]): void {
    let message: RequestMessage;
    try {
      message = decodeRequest(fields);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.policy.deadLetter(entryId, malformedStandIn(entryId), error.message, this.pod);
      return;
    }
    const now = Date.now();
    if (now >= message.deadline) {
      this.policy.expired(entryId, message, this.pod, -1, 0);
      return;
    }
    const terminal = this.pool.acquire();
    if (terminal === undefined) {
      // Cannot happen while reads ask for COUNT = free terminals; if it does, let another attempt run it.
      this.logger.error("no free terminal for a delivered entry", { entryId });
      this.policy.failed(entryId, message, new Error("no free terminal"), this.pod);
      return;
    }
    void this.run(entryId, message, terminal, now);
  }

  private async run(
    entryId: string,
    message: RequestMessage,
    terminal: number,
    startedAt: number,
  ): Promise<void> {
    this.running.set(entryId, startedAt);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    const queuedMs = Math.max(0, startedAt - message.enqueuedAt);
    this.metrics.queueWait.observe(queuedMs / 1000);
    const signal = AbortSignal.timeout(Math.max(1, message.deadline - startedAt));
    let result: string | undefined;
    let failure: unknown;
    try {
      result = await this.handler.handle({
        id: message.id,
        payload: message.payload,
        deadline: message.deadline,
        signal,
        attempt: message.attempt,
        kind: message.kind,
        retrySafe: message.retrySafe,
        ...(message.traceparent ? { traceparent: message.traceparent } : {}),
      });
    } catch (error) {
      failure = error;
    }
    const processingMs = Date.now() - startedAt;
    // Free the terminal before anything else: the next request starts now, not after a round trip.
    this.pool.release(terminal);
    this.running.delete(entryId);
    this.metrics.processingDuration.observe(processingMs / 1000);

    if (result !== undefined) {
      this.metrics.processed.inc({ outcome: "ok" });
      this.writer.write({
        entryId,
        replyTo: message.replyTo,
        resultTtlS: message.resultTtlS,
        reply: {
          id: message.id,
          status: "completed",
          result,
          pod: this.pod,
          terminal,
          queuedMs,
          processingMs,
        },
      });
    } else if (signal.aborted || Date.now() >= message.deadline) {
      this.policy.expired(entryId, message, this.pod, terminal, processingMs);
    } else {
      this.policy.failed(entryId, message, failure, this.pod);
    }
    // One line per attempt's outcome (retries and dead letters add their own, with the cause).
    this.logger.info("request processed", {
      requestId: message.id,
      traceId: traceIdOf(message.traceparent),
      outcome: result !== undefined ? "ok" : signal.aborted ? "expired" : "error",
      attempt: message.attempt,
      terminal,
      queuedMs,
      processingMs,
    });
  }
}

/** A placeholder for an entry that could not be decoded, so it can still be dead-lettered. */
function malformedStandIn(entryId: string): RequestMessage {
  return {
    id: entryId,
    replyTo: "",
    deadline: 0,
    enqueuedAt: 0,
    payload: "null",
    attempt: 1,
    resultTtlS: 0,
    kind: "json",
    retrySafe: false,
  };
}
