import {
  decodeRequest,
  type EntryRef,
  type Logger,
  MalformedMessageError,
  noTerminal,
  type RequestKind,
  type RequestMessage,
  traceIdOf,
} from "@rsd/shared";
import { DeadlineSignal } from "./deadline-signal.ts";
import type { Handler, HandlerRequest } from "./handlers/handler.ts";
import type { ProxyMetrics } from "./metrics.ts";
import type { FailurePolicy } from "./recovery/failure-policy.ts";
import type { ReplyWriter } from "./reply-writer.ts";
import type { TerminalPool } from "./terminal-pool.ts";

export interface TerminalRunnerOptions {
  pool: TerminalPool;
  handler: Handler;
  writer: ReplyWriter;
  policy: FailurePolicy;
  metrics: ProxyMetrics;
  /** This pod, as its replies name it. */
  pod: string;
  logger: Logger;
  /** An entry expired before it ran (no backend call): the breaker's probe goes back (BREAKER=on). */
  notCalled?: (() => void) | undefined;
}

/**
 * Runs one delivered entry: an expired request is answered `expired` without a terminal;
 * otherwise a terminal runs the handler with the remaining time as an AbortSignal, is released
 * the moment the handler returns, and the reply goes to the batched writer.
 */
export class TerminalRunner {
  /** Entries being processed now: their claims are kept fresh. */
  readonly running = new Set<EntryRef>();
  /** The most handler calls ever running at once: proves the terminal cap from the handler's side. */
  maxConcurrent = 0;

  private readonly pool: TerminalPool;
  private readonly handler: Handler;
  private readonly writer: ReplyWriter;
  private readonly policy: FailurePolicy;
  private readonly metrics: ProxyMetrics;
  private readonly pod: string;
  private readonly logger: Logger;
  private readonly notCalled: (() => void) | undefined;

  constructor(options: TerminalRunnerOptions) {
    this.notCalled = options.notCalled;
    this.pool = options.pool;
    this.handler = options.handler;
    this.writer = options.writer;
    this.policy = options.policy;
    this.metrics = options.metrics;
    this.pod = options.pod;
    this.logger = options.logger;
  }

  /** Takes one entry from XREADGROUP with the terminal the reader reserved for it. */
  dispatch(stream: string, entryId: string, fields: string[], terminal: number): void {
    const entry: EntryRef = { stream, id: entryId };
    let message: RequestMessage;
    try {
      message = decodeRequest(fields);
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      this.pool.unreserve(terminal);
      this.policy.deadLetter(entry, malformedStandIn(entryId), error.message);
      return;
    }
    const now = Date.now();
    if (now >= message.deadline) {
      // Late already: answered without using the terminal.
      this.pool.unreserve(terminal);
      this.notCalled?.();
      this.policy.expired(entry, message, noTerminal, 0);
      return;
    }
    this.pool.start(terminal);
    void this.run(entry, message, terminal, now);
  }

  private async run(
    entry: EntryRef,
    message: RequestMessage,
    terminal: number,
    startedAt: number,
  ): Promise<void> {
    this.running.add(entry);
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    const queuedMs = Math.max(0, startedAt - message.enqueuedAt);
    this.metrics.queueWait.observe(queuedMs / 1000);
    const deadline = new DeadlineSignal(message.deadline);
    let result: string | undefined;
    let failure: unknown;
    const request = new DeliveredRequest(message, deadline, entry, terminal);
    try {
      result = await this.handler.handle(request);
    } catch (error) {
      failure = error;
    } finally {
      deadline.dispose();
    }
    const processingMs = Date.now() - startedAt;
    // Free the terminal before anything else: the next request starts now, not after a round trip.
    this.pool.release(terminal);
    this.running.delete(entry);
    this.metrics.processingDuration.observe(processingMs / 1000);

    if (result !== undefined) {
      this.metrics.countProcessed("ok");
      this.writer.answer(entry, message, {
        status: "completed",
        result,
        pod: this.pod,
        terminal,
        queuedMs,
        processingMs,
      });
    } else if (deadline.aborted || Date.now() >= message.deadline) {
      this.policy.expired(entry, message, terminal, processingMs);
    } else {
      this.policy.failed(entry, message, failure);
    }
    // One line per attempt's outcome (retries and dead letters add their own, with the cause).
    if (!this.logger.enabled("info")) return;
    this.logger.info("request processed", {
      requestId: message.id,
      traceId: traceIdOf(message.traceparent),
      outcome: result !== undefined ? "ok" : deadline.aborted ? "expired" : "error",
      attempt: message.attempt,
      terminal,
      queuedMs,
      processingMs,
    });
  }
}

/**
 * What the handler sees of a delivered message. A class, not an object literal with a getter:
 * the literal would make a fresh getter function, and a slower object shape, for every request.
 */
class DeliveredRequest implements HandlerRequest {
  readonly id: string;
  readonly payload: string;
  readonly deadline: number;
  readonly attempt: number;
  readonly kind: RequestKind;
  readonly retrySafe: boolean;
  readonly traceparent: string | undefined;
  readonly stream: string;
  readonly entryId: string;
  readonly enqueuedAt: number;
  readonly tenant: string | undefined;

  constructor(
    message: RequestMessage,
    private readonly deadlineSignal: DeadlineSignal,
    entry: EntryRef,
    readonly terminal: number,
  ) {
    this.id = message.id;
    this.payload = message.payload;
    this.deadline = message.deadline;
    this.attempt = message.attempt;
    this.kind = message.kind;
    this.retrySafe = message.retrySafe;
    this.traceparent = message.traceparent;
    this.stream = entry.stream;
    this.entryId = entry.id;
    this.enqueuedAt = message.enqueuedAt;
    this.tenant = message.tenant;
  }

  get signal(): AbortSignal {
    return this.deadlineSignal.signal;
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
