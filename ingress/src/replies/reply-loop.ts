import {
  decodeReply,
  isReplyEntry,
  type Logger,
  MalformedMessageError,
  type StreamConnection,
  streamEntries,
} from "@rsd/shared";
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
          "1000",
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
}
