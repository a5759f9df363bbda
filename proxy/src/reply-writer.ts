import {
  type Completion,
  type Completions,
  type DeadLetter,
  type EntryRef,
  type Logger,
  type ReplyMessage,
  type RequestMessage,
  UnwrittenError,
} from "@rsd/shared";
import type { Counter } from "prom-client";

export interface ReplyWriterOptions {
  /** Where the batches go (the protocol's delivery rule: outcomes before acks). */
  completions: Completions;
  logger: Logger;
  /** Counts every batch Redis refused or could not take (rsd_proxy_reply_write_failures_total). */
  failures: Counter;
}

/**
 * Writes replies and acknowledgements in batches: everything finished in one event-loop turn
 * leaves together (see Completions for what one batch writes, and in which order). A batch that
 * Redis refuses (out of memory, no permission) stays pending for this pod, its claims kept
 * fresh, and is retried with backoff.
 */
export class ReplyWriter {
  private queue: Completion[] = [];
  /** The batch being written now: still unacknowledged, so its claims must be kept too. */
  private inFlight: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private failures = 0;
  private readonly logger: Logger;

  constructor(private readonly options: ReplyWriterOptions) {
    this.logger = options.logger;
  }

  /**
   * Completions waiting because Redis refused or could not take them (0 while writes succeed: the
   * batch in flight is normal traffic). While they are as many as the terminals, the pod reads no
   * new work (see Consumer).
   */
  get backlog(): number {
    return this.failures > 0 ? this.queue.length + this.inFlight.length : 0;
  }

  /** Entries answered but not yet acknowledged (their claims must stay fresh: see ClaimKeeper). */
  get held(): EntryRef[] {
    return [...this.inFlight, ...this.queue].map((completion) => completion.entry);
  }

  /**
   * Answers `message` (delivered as `entry`): where the reply goes and what is stored follow from
   * the message. Takes `reply` over (a fresh object from the caller) and completes it with the id.
   */
  answer(
    entry: EntryRef,
    message: RequestMessage,
    reply: Omit<ReplyMessage, "id">,
    deadLetter?: DeadLetter,
  ): void {
    // Built field by field, not spread: this runs once per request.
    const full = reply as ReplyMessage;
    full.id = message.id;
    const completion: Completion = {
      entry,
      replyTo: message.replyTo,
      resultTtlS: message.resultTtlS,
      reply: full,
      deadline: message.deadline,
      // Whose result key the outcome goes to; undefined (one property, always there) for `default`.
      tenant: message.tenant,
    };
    if (deadLetter) completion.deadLetter = deadLetter;
    this.write(completion);
  }

  write(completion: Completion): void {
    this.queue.push(completion);
    this.schedule(0);
  }

  /** Waits until everything queued so far is written, or `timeoutMs` passes. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while ((this.queue.length > 0 || this.flushing) && Date.now() < deadline) {
      if (this.flushing) await this.flushing;
      else await this.flush();
      if (this.queue.length > 0) await Bun.sleep(20);
    }
    return this.queue.length === 0;
  }

  private schedule(delayMs: number): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    // "Now" is the end of this event-loop turn, not a zero-delay timer: everything finished in this
    // turn joins the batch, and Bun's timers would add a whole millisecond to every reply.
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.inFlight = batch;
    this.flushing = this.send(batch);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
      this.inFlight = [];
    }
    if (this.queue.length > 0) this.schedule(this.failures > 0 ? Math.min(1000, 50 * this.failures) : 0);
  }

  private async send(batch: Completion[]): Promise<void> {
    try {
      const failedInside = await this.options.completions.write(batch);
      this.failures = 0;
      if (failedInside)
        this.logger.warn("a command of a reply batch failed inside its transaction", { error: failedInside });
    } catch (caught) {
      // Nothing of what failed was acknowledged: keep it and retry. The backlog is bounded: the
      // consumer reads no new work while it is as large as the terminals (see Consumer).
      const unwritten = caught instanceof UnwrittenError ? caught.unwritten : batch;
      const error = caught instanceof UnwrittenError ? caught.reason : caught;
      this.failures++;
      this.options.failures.inc();
      this.queue = unwritten.concat(this.queue);
      if (this.failures === 1 || this.failures % 100 === 0)
        this.logger.warn("writing replies failed; they stay pending and are retried", {
          error,
          batch: unwritten.length,
          failures: this.failures,
        });
    }
  }
}
