import {
  encodeReply,
  encodeStoredReply,
  inlineResultLimit,
  isErrorReply,
  type Logger,
  type ReplyMessage,
  type RequestMessage,
  type StreamConnection,
  type StreamKeys,
} from "@rsd/shared";
import type { Counter } from "prom-client";
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
  /** The request's deadline (epoch ms): how long a large result waits for its ingress. */
  deadline?: number;
}

export interface ReplyWriterOptions {
  connection: StreamConnection;
  keys: StreamKeys;
  logger: Logger;
  /** Redis Cluster: replies and acks live on different nodes (see sendBatch). */
  cluster: boolean;
  /** Counts every batch Redis refused or could not take (rsd_proxy_reply_write_failures_total). */
  failures: Counter;
  /**
   * DEAD_LETTER_MAX_COUNT: the dead-letter stream is capped here, on every dead letter (their age
   * by DeadLetterTrimmer). Reply streams are capped by their ingress (ingress/src/replies/
   * reply-stream.ts): the reply XADD, once per request, stays short.
   */
  deadLetterMaxCount: number;
}

/** Some completions of a batch were not written (Redis refused them); none of those was acked. */
class UnwrittenError extends Error {
  override name = "UnwrittenError";
  constructor(
    readonly unwritten: Completion[],
    readonly reason: unknown,
  ) {
    super(`${unwritten.length} completion(s) not written`);
  }
}

/**
 * Writes replies and acknowledgements in batches: everything finished in one event-loop turn
 * leaves together (one socket write, auto-pipelined), replies (and results, dead letters) first,
 * then one XACK per stream. An entry is acknowledged only if its writes were: a batch that Redis
 * refuses (out of memory, no permission) stays pending for this pod, its claims kept fresh, and is
 * retried with backoff. A crash between write and ack only causes a redelivery whose duplicate
 * reply the ingress ignores.
 */
export class ReplyWriter {
  private queue: Completion[] = [];
  /** The batch being written now: still unacknowledged, so its claims must be kept too. */
  private inFlight: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private failures = 0;
  private readonly connection: StreamConnection;
  private readonly keys: StreamKeys;
  private readonly logger: Logger;

  constructor(private readonly options: ReplyWriterOptions) {
    this.connection = options.connection;
    this.keys = options.keys;
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
      deadline: message.deadline,
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
      await this.sendBatch(batch);
      this.failures = 0;
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

  /**
   * Replies (and results, dead letters) first, then one XACK per stream. On one Redis they all
   * leave in one write on one connection as one MULTI … EXEC: Redis refuses a command that cannot
   * run (out of memory, no permission) when it is queued and then discards the whole transaction,
   * so the acks never run without the writes, at the cost of two commands per batch, not per
   * request. On a cluster the keys live on different nodes and MULTI cannot span them: each entry
   * is acknowledged only after its own writes succeeded.
   */
  private async sendBatch(batch: Completion[]): Promise<void> {
    if (this.options.cluster) return await this.sendEachThenAck(batch);
    const sent: Promise<unknown>[] = [this.connection.send("MULTI", [])];
    for (const item of batch)
      for (const [command, args] of this.outcomeCommands(item))
        sent.push(this.connection.send(command, args));
    for (const [stream, ids] of idsByStream(batch.map((item) => item.entry)))
      sent.push(this.connection.send("XACK", [stream, this.keys.group, ...ids]));
    sent.push(this.connection.send("EXEC", []));
    // Every promise is settled before judging, so none is left to reject unobserved.
    const outcomes = await Promise.allSettled(sent);
    const exec = outcomes[outcomes.length - 1] as PromiseSettledResult<unknown>;
    if (exec.status === "rejected") {
      if (!isErrorReply(exec.reason)) throw exec.reason; // the connection: retry it all
      // EXECABORT: a queued command was refused, and its own error says why.
      const refused = outcomes.find((outcome) => outcome.status === "rejected" && outcome !== exec);
      throw new UnwrittenError(batch, refused?.status === "rejected" ? refused.reason : exec.reason);
    }
    // Inside EXEC a command can still fail on its own (a reply stream that is not a stream, an ack
    // after Redis came back empty) while the others ran: say so.
    const results = Array.isArray(exec.value) ? exec.value : [];
    const failed = results.find((result) => result instanceof Error);
    if (failed)
      this.logger.warn("a command of a reply batch failed inside its transaction", { error: failed });
  }

  /** Redis Cluster: each entry's writes, then the acks of the entries whose writes all succeeded. */
  private async sendEachThenAck(batch: Completion[]): Promise<void> {
    let refusal: unknown;
    const written = await Promise.all(
      batch.map(async (item) => {
        const outcomes = await Promise.allSettled(
          this.outcomeCommands(item).map(([command, args]) => this.connection.send(command, args)),
        );
        const failure = outcomes.find((outcome) => outcome.status === "rejected");
        if (failure?.status !== "rejected") return true;
        if (!isErrorReply(failure.reason)) throw failure.reason; // the connection: retry it all
        refusal = failure.reason;
        return false;
      }),
    );
    const done = batch.filter((_, index) => written[index]);
    const acks = [...idsByStream(done.map((item) => item.entry))].map(([stream, ids]) =>
      this.connection.send("XACK", [stream, this.keys.group, ...ids]),
    );
    for (const outcome of await Promise.allSettled(acks)) {
      // A lost connection: written but not acked, so written and acked again (the ingress ignores
      // the duplicate reply). An error reply (NOGROUP after Redis came back empty) loses nothing.
      if (outcome.status === "rejected" && !isErrorReply(outcome.reason)) throw outcome.reason;
    }
    const unwritten = batch.filter((_, index) => !written[index]);
    if (unwritten.length > 0) throw new UnwrittenError(unwritten, refusal);
  }

  /** Dead letter, reply, stored result: what one finished request writes before its ack. */
  private outcomeCommands(item: Completion): [command: string, args: string[]][] {
    const commands: [string, string[]][] = [];
    if (item.deadLetter)
      commands.push([
        "XADD",
        [this.keys.dead, "MAXLEN", "~", String(this.options.deadLetterMaxCount), "*", ...item.deadLetter],
      ]);
    if (item.replyTo) {
      const result = item.reply.result;
      if (result !== undefined && result.length > inlineResultLimit) {
        // Too large for the reply stream: the reply carries the key; the ingress reads the body only
        // for a request that still waits, and nobody waits past the deadline (a few seconds' grace).
        const key = this.keys.replyBody(item.reply.id);
        const ttlMs = Math.max(1000, (item.deadline ?? 0) - Date.now()) + 5000;
        commands.push(["SET", [key, result, "PX", String(ttlMs)]]);
        const reference: ReplyMessage = { ...item.reply, resultRef: key };
        commands.push(["XADD", [item.replyTo, "NOMKSTREAM", "*", ...encodeReply(reference)]]);
      } else {
        commands.push(["XADD", [item.replyTo, "NOMKSTREAM", "*", ...encodeReply(item.reply)]]);
      }
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
