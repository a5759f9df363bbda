import {
  decodeReply,
  isReplyEntry,
  type Logger,
  MalformedMessageError,
  type ReplyMessage,
  type StreamConnection,
  streamEntries,
} from "@rsd/shared";

/**
 * Replies read at most per XREAD. A reply's result travels inline only up to inlineResultLimit
 * (shared/src/messages.ts), so one read brings a bounded number of bytes (256 × at most 48 KiB),
 * whatever the backends answer; larger results are fetched one by one, for waiters only.
 */
const readCount = "256";

import type { PendingReplies } from "./pending-replies.ts";

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

  constructor(
    private readonly connection: StreamConnection,
    private readonly stream: string,
    private readonly pending: PendingReplies,
    private readonly logger: Logger,
    private readonly blockMs = 1000,
    /** Where large results are read from (a non-blocking connection): see fetchResult. */
    private readonly bodies: StreamConnection = connection,
  ) {}

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
    this.connection.close();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      if (!this.connection.ready) {
        this.healthy = false;
        await this.connection.waitUntilReady(1000, signal);
        continue;
      }
      try {
        const result = await this.connection.send("XREAD", [
          "COUNT",
          readCount,
          "BLOCK",
          String(this.blockMs),
          "STREAMS",
          this.stream,
          this.lastId,
        ]);
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

  private dispatch(result: unknown): void {
    for (const [, entries] of streamEntries(result)) {
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
  }

  /** A result that was too large for the stream: read it, hand the whole reply over, delete the key. */
  private async fetchResult(reply: ReplyMessage, key: string): Promise<void> {
    delete reply.resultRef;
    try {
      const body = await this.bodies.send("GET", [key]);
      if (typeof body === "string") {
        reply.result = body;
        void this.bodies.send("DEL", [key]).catch(() => {});
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
