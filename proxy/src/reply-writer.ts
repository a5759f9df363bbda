import {
  encodeReply,
  encodeStoredReply,
  type Logger,
  type ReplyMessage,
  type RequestMessage,
  type StreamKeys,
} from "@rsd/shared";
import type Redis from "ioredis";
import { ReplyError } from "ioredis";
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

/** Reply streams are capped: a stream whose ingress vanished cannot grow without bound. */
const replyStreamMaxLen = 10_000;
const deadLetterMaxLen = 100_000;

/**
 * Writes replies and acknowledgements in batches: everything finished in one event-loop turn
 * leaves in one pipeline, replies (and results, dead letters) first, then one XACK for all. A
 * crash between the two only causes a redelivery whose duplicate reply the ingress ignores; the
 * order also holds on Redis Cluster, where MULTI across these keys is impossible.
 */
export class ReplyWriter {
  private queue: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private failures = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly logger: Logger,
    /** Redis Cluster: no pipelines across keys (see sendToCluster). */
    private readonly cluster = false,
  ) {}

  get backlog(): number {
    return this.queue.length;
  }

  /** Answers `message` (delivered as `entry`): where the reply goes and what is stored follow from the message. */
  answer(
    entry: EntryRef,
    message: RequestMessage,
    reply: Omit<ReplyMessage, "id">,
    deadLetter?: string[],
  ): void {
    this.write({
      entry,
      replyTo: message.replyTo,
      resultTtlS: message.resultTtlS,
      reply: { id: message.id, ...reply },
      ...(deadLetter ? { deadLetter } : {}),
    });
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
    // Even "now" is a timer, not setImmediate: the replies of the next millisecond join the batch,
    // which costs one socket write instead of one per finished request.
    setTimeout(run, delayMs);
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
      if (this.cluster) await this.sendToCluster(batch);
      else await this.sendPipelined(batch);
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

  /** One Redis: everything in one pipeline, the acks last. */
  private async sendPipelined(batch: Completion[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const item of batch)
      for (const [command, ...args] of this.outcomeCommands(item)) pipeline.call(command, ...args);
    for (const [stream, ids] of idsByStream(batch.map((item) => item.entry))) {
      pipeline.xack(stream, this.keys.group, ...ids);
    }
    const results = (await pipeline.exec()) ?? [];
    // A per-command error (e.g. NOGROUP after Redis restarted empty) concerns one entry, not the batch.
    const failed = results.find(([error]) => error);
    if (failed) this.logger.debug("a reply command failed", { error: failed[0] });
  }

  /**
   * Redis Cluster: a pipeline may only hold keys of one slot, so the commands go out one by one
   * (auto-pipelined per node by the client), and the acks only after every reply is written.
   */
  private async sendToCluster(batch: Completion[]): Promise<void> {
    const writes = batch.flatMap((item) =>
      this.outcomeCommands(item).map(([command, ...args]) => this.redis.call(command, ...args)),
    );
    for (const outcome of await Promise.allSettled(writes)) {
      // A lost connection retries the whole batch; an error reply concerns one entry only.
      if (outcome.status === "rejected" && !(outcome.reason instanceof ReplyError)) throw outcome.reason;
    }
    await Promise.all(
      [...idsByStream(batch.map((item) => item.entry))].map(([stream, ids]) =>
        this.redis.xack(stream, this.keys.group, ...ids),
      ),
    );
  }

  /** Dead letter, reply, stored result: what one finished request writes before its ack. */
  private outcomeCommands(item: Completion): [string, ...(string | number)[]][] {
    const commands: [string, ...(string | number)[]][] = [];
    if (item.deadLetter)
      commands.push(["xadd", this.keys.dead, "MAXLEN", "~", deadLetterMaxLen, "*", ...item.deadLetter]);
    if (item.replyTo) {
      commands.push([
        "xadd",
        item.replyTo,
        "NOMKSTREAM",
        "MAXLEN",
        "~",
        replyStreamMaxLen,
        "*",
        ...encodeReply(item.reply),
      ]);
    }
    if (item.resultTtlS > 0) {
      commands.push([
        "set",
        this.keys.result(item.reply.id),
        encodeStoredReply(item.reply),
        "EX",
        item.resultTtlS,
      ]);
    }
    return commands;
  }
}
