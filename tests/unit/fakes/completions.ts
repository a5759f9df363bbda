import {
  type Completion,
  type Completions,
  type DeadLetter,
  decodeDeadLetter,
  decodeReply,
  encodeDeadLetter,
  encodeReply,
  type ReplyMessage,
  type RequestQueue,
  UnwrittenError,
} from "@rsd/shared";

/**
 * In-memory Completions with the protocol's delivery rule: a batch's outcomes (dead letters,
 * replies) are recorded first, then its entries are acknowledged on `queue`; a refused batch
 * writes nothing and acknowledges nothing. Records are kept encoded through the protocol's codecs,
 * as Redis would hold them, and decoded when a test reads them.
 */
export class FakeCompletions implements Completions {
  /** Batches refused so far. */
  refusals = 0;
  private readonly replyStreams = new Map<string, string[][]>();
  private readonly deadLetterEntries: string[][] = [];
  private refusal: unknown;

  constructor(private readonly queue: Pick<RequestQueue, "ack">) {}

  /** Every batch from now on is refused with `error` (as Redis out of memory), until `accept`. */
  refuse(error: unknown = new Error("OOM command not allowed when used memory > 'maxmemory'")): void {
    this.refusal = error;
  }

  accept(): void {
    this.refusal = undefined;
  }

  async write(batch: Completion[]): Promise<unknown> {
    if (this.refusal !== undefined) {
      this.refusals++;
      throw new UnwrittenError(batch, this.refusal);
    }
    for (const item of batch) {
      if (item.deadLetter) this.deadLetterEntries.push(encodeDeadLetter(item.deadLetter));
      if (item.replyTo) {
        const stream = this.replyStreams.get(item.replyTo) ?? [];
        stream.push(encodeReply(item.reply));
        this.replyStreams.set(item.replyTo, stream);
      }
    }
    await this.queue.ack(batch.map((item) => item.entry));
    return undefined;
  }

  /** The replies written to reply stream `replyTo`, oldest first. */
  replies(replyTo: string): ReplyMessage[] {
    return (this.replyStreams.get(replyTo) ?? []).map(decodeReply);
  }

  get deadLetters(): DeadLetter[] {
    return this.deadLetterEntries.map(decodeDeadLetter);
  }
}
