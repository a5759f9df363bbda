import {
  decodeReply,
  isReplyEntry,
  type Logger,
  MalformedMessageError,
  type RedisClient,
  type ReplyChannel,
  type ReplyMessage,
  type ResultStore,
  type StreamEntry,
} from "@rsd/shared";
import type { PendingReplies } from "./pending-replies.ts";

/**
 * Replies read at most per XREAD. A reply's result travels inline only up to inlineResultLimit
 * (shared/src/protocol/records/reply.ts), so one read brings a bounded number of bytes (256 × at
 * most 48 KiB), whatever the backends answer; larger results are fetched one by one, for waiters only.
 */
const readCount = 256;

export interface ReplyLoopOptions {
  /** The reply stream, over a dedicated blocking connection (`client`). */
  channel: ReplyChannel;
  client: RedisClient;
  pending: PendingReplies;
  logger: Logger;
  blockMs?: number;
  /** Where large results are read from (over a non-blocking connection): see fetchResult. */
  bodies: ResultStore;
}

/**
 * The one reader of this ingress's reply stream: a blocking XREAD on a dedicated connection
 * that hands each reply to the waiting HTTP handler by request id. It remembers the last id it
 * read, so after a reconnect it resumes where it stopped and no reply is lost (pub/sub would
 * lose them).
 */
export class ReplyLoop {
  /**
   * From the start of the stream: the stream is this process's own (its name carries a random
   * suffix), so everything in it concerns this process. Not an id made from this machine's clock:
   * stream ids come from Redis's clock, and an ingress whose clock ran ahead of Redis's would skip
   * every reply until Redis caught up.
   */
  private lastId = "0-0";
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** True while the last read succeeded: part of readiness. */
  healthy = false;

  private readonly channel: ReplyChannel;
  private readonly client: RedisClient;
  private readonly pending: PendingReplies;
  private readonly logger: Logger;
  private readonly blockMs: number;
  private readonly bodies: ResultStore;

  constructor(options: ReplyLoopOptions) {
    this.channel = options.channel;
    this.client = options.client;
    this.pending = options.pending;
    this.logger = options.logger;
    this.blockMs = options.blockMs ?? 1000;
    this.bodies = options.bodies;
  }

  /** The id of the last reply read; the reply stream may be trimmed up to it. */
  get position(): string {
    return this.lastId;
  }

  /**
   * The stream was created anew (Redis came back empty): its ids start again from Redis's clock,
   * which may be behind the last id read, so read it from its start. A reply read twice finds no
   * waiter the second time and is ignored.
   */
  rewind(): void {
    this.lastId = "0-0";
  }

  start(): this {
    this.running ??= this.run();
    return this;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    // A blocked XREAD holds the connection for up to `blockMs`; closing it ends the read at once.
    this.client.close();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (!this.client.ready) {
        this.healthy = false;
        await this.client.waitUntilReady(1000, signal);
        continue;
      }
      try {
        const result = await this.channel.read({
          after: this.lastId,
          count: readCount,
          blockMs: this.blockMs,
        });
        this.healthy = true;
        failures = 0;
        this.dispatch(result);
      } catch (error) {
        if (signal.aborted) break;
        this.healthy = false;
        failures++;
        this.logger.warn("reply loop read failed", { error, failures });
        await Bun.sleep(Math.min(1000, 50 * failures));
      }
    }
    this.healthy = false;
  }

  private dispatch(entries: StreamEntry[]): void {
    for (const [id, fields] of entries) {
      this.lastId = id;
      if (!isReplyEntry(fields)) continue; // the stream's creation marker
      try {
        const reply = decodeReply(fields);
        if (reply.resultRef !== undefined) {
          // Read only for a waiter: a duplicate's body is never fetched, it just expires.
          if (this.pending.has(reply.id)) void this.fetchResult(reply, reply.resultRef);
          continue;
        }
        if (!this.pending.deliver(reply)) {
          this.logger.debug("reply without a waiter (duplicate or past its deadline)", {
            requestId: reply.id,
          });
        }
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        this.logger.warn("malformed reply ignored", { entryId: id, error });
      }
    }
  }

  /** A result that was too large for the stream: read it, hand the whole reply over, delete the key. */
  private async fetchResult(reply: ReplyMessage, key: string): Promise<void> {
    delete reply.resultRef;
    try {
      const body = await this.bodies.readBody(key);
      if (body !== undefined) {
        reply.result = body;
        void this.bodies.deleteBody(key).catch(() => {});
      } else {
        this.failReply(reply, "the reply's result expired before it was read");
      }
    } catch (error) {
      this.logger.warn("reading a large reply failed", { requestId: reply.id, error });
      this.failReply(reply, "the reply's result could not be read from Redis");
    }
    this.pending.deliver(reply);
  }

  private failReply(reply: ReplyMessage, error: string): void {
    reply.status = "failed";
    reply.error = error;
    delete reply.result;
  }
}
