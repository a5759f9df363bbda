import {
  encodeReply,
  encodeStoredReply,
  isErrorReply,
  type Logger,
  type ReplyMessage,
  type RequestMessage,
  type StreamConnection,
  type StreamKeys,
} from "@rsd/shared";
import { type EntryRef, idsByStream } from "./entry-ref.ts";

/** One finished request: its reply (if someone waits), its stored result, its dead letter, its ack. */
export interface Completion {
  entry: EntryRef;
  replyTo: string;
  reply: ReplyMessage;
  /** Store the outcome under the result key for this many seconds (0 = not stored). */
  resultTtlS: number;
  /** Fields of a dead-letter entry, when the request failed for good. */
  deadLetter?: string[];
}

/**
 * The dead-letter stream is capped here. Reply streams are capped by their ingress (see
 * ingress/src/replies/reply-stream.ts): the reply XADD, once per request, stays short.
 */
const deadLetterMaxLen = "100000";

/**
 * Writes replies and acknowledgements in batches: everything finished in one event-loop turn
 * leaves together (one socket write, auto-pipelined), replies (and results, dead letters) first,
 * then one XACK per stream. A crash between the two only causes a redelivery whose duplicate
 * reply the ingress ignores; the order also holds on Redis Cluster, where MULTI across these keys
 * is impossible.
 */
export class ReplyWriter {
  private queue: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private failures = 0;

  constructor(
    private readonly connection: StreamConnection,
    private readonly keys: StreamKeys,
    private readonly logger: Logger,
    /** Redis Cluster: replies and acks live on different nodes (see sendBatch). */
    private readonly cluster = false,
  ) {}

  get backlog(): number {
    return this.queue.length;
  }

  /**
   * Answers `message` (delivered as `entry`): where the reply goes and what is stored follow from
   * the message. Takes `reply` over (a fresh object from the caller) and completes it with the id.
   */
  answer(
    entry: EntryRef,
    message: RequestMessage,
    reply: Omit<ReplyMessage, "id">,
    deadLetter?: string[],
  ): void {
    // Built field by field, not spread: this runs once per request.
    const full = reply as ReplyMessage;
    full.id = message.id;
    const completion: Completion = {
      entry,
      replyTo: message.replyTo,
      resultTtlS: message.resultTtlS,
      reply: full,
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
    this.flushing = this.send(batch);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.queue.length > 0) this.schedule(this.failures > 0 ? Math.min(1000, 50 * this.failures) : 0);
  }

  private async send(batch: Completion[]): Promise<void> {
    try {
      await this.sendBatch(batch);
      this.failures = 0;
    } catch (error) {
      // The connection is down: keep the batch and retry. It is bounded by the terminals, since
      // nothing new is read while Redis is away.
      this.failures++;
      this.queue = batch.concat(this.queue);
      if (this.failures === 1)
        this.logger.warn("writing replies failed; will retry", { error, batch: batch.length });
    }
  }

  /**
   * Replies (and results, dead letters) first, then one XACK per stream. On one Redis they all
   * leave in one write on one connection, which Redis runs in order, so the acks follow the replies
   * without waiting for them. On a cluster they go to different nodes: the acks wait for every
   * reply to be written.
   */
  private async sendBatch(batch: Completion[]): Promise<void> {
    const writes: Promise<unknown>[] = [];
    for (const item of batch)
      for (const [command, args] of this.outcomeCommands(item))
        writes.push(this.connection.send(command, args));
    const ack = () =>
      [...idsByStream(batch.map((item) => item.entry))].map(([stream, ids]) =>
        this.connection.send("XACK", [stream, this.keys.group, ...ids]),
      );
    // Every promise is settled before judging, so none is left to reject unobserved.
    const early = this.cluster ? undefined : Promise.allSettled(ack());
    this.check(await Promise.allSettled(writes));
    this.check(await (early ?? Promise.allSettled(ack())));
  }

  /**
   * A lost connection fails the whole batch, which is retried (the ingress ignores a duplicate
   * reply); an error reply (e.g. NOGROUP after Redis restarted empty) concerns one entry only.
   */
  private check(outcomes: PromiseSettledResult<unknown>[]): void {
    for (const outcome of outcomes) {
      if (outcome.status === "fulfilled") continue;
      if (!isErrorReply(outcome.reason)) throw outcome.reason;
      this.logger.debug("a reply command failed", { error: outcome.reason });
    }
  }

  /** Dead letter, reply, stored result: what one finished request writes before its ack. */
  private outcomeCommands(item: Completion): [command: string, args: string[]][] {
    const commands: [string, string[]][] = [];
    if (item.deadLetter)
      commands.push(["XADD", [this.keys.dead, "MAXLEN", "~", deadLetterMaxLen, "*", ...item.deadLetter]]);
    if (item.replyTo) {
      commands.push(["XADD", [item.replyTo, "NOMKSTREAM", "*", ...encodeReply(item.reply)]]);
    }
    if (item.resultTtlS > 0) {
      commands.push([
        "SET",
        [this.keys.result(item.reply.id), encodeStoredReply(item.reply), "EX", String(item.resultTtlS)],
      ]);
    }
    return commands;
  }
}
