import type { Command } from "./client/connection.ts";
import { commands, type RedisClient } from "./client/redis-client.ts";
import { failedWhileRunning, isErrorReply } from "./client/replies.ts";
import { type EntryRef, idsByStream } from "./entry-ref.ts";
import type { StreamKeys } from "./keys.ts";
import { type DeadLetter, encodeDeadLetter } from "./records/dead-letter.ts";
import { encodeReply, inlineResultLimit, type ReplyMessage } from "./records/reply.ts";
import { encodeStoredReply } from "./records/stored-result.ts";

/** One finished request: its reply (if someone waits), its stored result, its dead letter, its ack. */
export interface Completion {
  entry: EntryRef;
  /** The reply stream to answer on ("" when nobody waits). */
  replyTo: string;
  reply: ReplyMessage;
  /** Store the outcome under the result key for this many seconds (0 = not stored). */
  resultTtlS: number;
  /** When the request failed for good. */
  deadLetter?: DeadLetter;
  /** The request's deadline (epoch ms): how long a large result waits for its ingress. */
  deadline?: number;
  /** Whose request it was (undefined = `default`): the stored result goes under that tenant's key. */
  tenant?: string | undefined;
}

/** Some completions of a batch were not written (Redis refused them); none of those was acked. */
export class UnwrittenError extends Error {
  override name = "UnwrittenError";
  constructor(
    readonly unwritten: Completion[],
    readonly reason: unknown,
  ) {
    super(`${unwritten.length} completion(s) not written`);
  }
}

/**
 * The delivery rule of the protocol: a request's outcome (reply, stored result, dead letter) is
 * written before its entry is acknowledged, and an entry whose outcome Redis did not take is
 * never acknowledged. A crash between write and ack only causes a redelivery, whose duplicate
 * reply the ingress ignores.
 */
export interface Completions {
  /**
   * Writes a batch. Rejects with UnwrittenError (those entries stay pending, nothing of them was
   * acked) or with a connection error (nothing is known: retry all; a repeat is harmless).
   * Resolves with the first error of a command that failed on its own inside an accepted batch.
   */
  write(batch: Completion[]): Promise<unknown>;
}

export class RedisCompletions implements Completions {
  private readonly client: RedisClient;
  private readonly keys: StreamKeys;
  private readonly deadLetterMaxCount: number;

  constructor(options: {
    client: RedisClient;
    keys: StreamKeys;
    /** DEAD_LETTER_MAX_COUNT: the dead letters are capped on every XADD (their age by DeadLetters). */
    deadLetterMaxCount: number;
  }) {
    this.client = options.client;
    this.keys = options.keys;
    this.deadLetterMaxCount = options.deadLetterMaxCount;
  }

  /**
   * On one Redis the whole batch — outcomes first, then one XACK per stream — is one MULTI … EXEC
   * in one write: Redis refuses a command that cannot run (out of memory, no permission) when it
   * is queued and then discards the transaction, so the acks never run without the writes, at the
   * cost of two commands per batch, not per request. On a cluster the keys live on different
   * nodes and MULTI cannot span them: each entry is acked only after its own writes succeeded
   * (or, as inside EXEC, failed while they ran: a key of another type, which no retry fixes).
   */
  async write(batch: Completion[]): Promise<unknown> {
    if (this.client.cluster) return await this.writeEachThenAck(batch);
    const queued: Command[] = [];
    for (const item of batch) this.outcomeCommands(item, queued);
    for (const [stream, ids] of idsByStream(batch.map((item) => item.entry)))
      queued.push(commands.xack(stream, this.keys.group, ids));
    let results: unknown[];
    try {
      results = await this.client.transaction(queued);
    } catch (error) {
      if (isErrorReply(error)) throw new UnwrittenError(batch, error);
      throw error;
    }
    // Inside EXEC a command can still fail on its own (a reply stream that is not a stream, an ack
    // after Redis came back empty) while the others ran.
    return results.find((result) => result instanceof Error);
  }

  private async writeEachThenAck(batch: Completion[]): Promise<unknown> {
    let refusal: unknown;
    let failedInside: unknown;
    const written = await Promise.all(
      batch.map(async (item) => {
        const sent = this.outcomeCommands(item, []).map(([name, args]) =>
          this.client.connection.send(name, args),
        );
        let accepted = true;
        for (const outcome of await Promise.allSettled(sent)) {
          if (outcome.status === "fulfilled") continue;
          if (!isErrorReply(outcome.reason)) throw outcome.reason; // the connection: retry it all
          // As inside EXEC: a command that failed while it ran (a reply key of another type) does
          // not hold its entry back, since no retry could ever write it; its error is returned.
          if (failedWhileRunning(outcome.reason)) failedInside ??= outcome.reason;
          else {
            refusal = outcome.reason;
            accepted = false;
          }
        }
        return accepted;
      }),
    );
    const done = batch.filter((_, index) => written[index]);
    const acks = [...idsByStream(done.map((item) => item.entry))].map(([stream, ids]) =>
      this.client.xack(stream, this.keys.group, ids),
    );
    for (const outcome of await Promise.allSettled(acks)) {
      if (outcome.status === "fulfilled") continue;
      // A lost connection: written but not acked, so written and acked again (the ingress ignores
      // the duplicate reply). An error reply to XACK (an ACL that refuses it, say) loses nothing
      // either: the entry stays pending and is answered again. (XACK on a stream or group that is
      // gone, after Redis came back empty, is no error: it acks nothing and returns 0.)
      if (!isErrorReply(outcome.reason)) throw outcome.reason;
      failedInside ??= outcome.reason;
    }
    const unwritten = batch.filter((_, index) => !written[index]);
    if (unwritten.length > 0) throw new UnwrittenError(unwritten, refusal);
    return failedInside;
  }

  /** Dead letter, reply, stored result: what one finished request writes before its ack. */
  private outcomeCommands(item: Completion, into: Command[]): Command[] {
    if (item.deadLetter)
      into.push(
        commands.xadd(this.keys.dead, encodeDeadLetter(item.deadLetter), {
          maxLength: this.deadLetterMaxCount,
        }),
      );
    if (item.replyTo) {
      const result = item.reply.result;
      if (result !== undefined && result.length > inlineResultLimit) {
        // Too large for the reply stream: the reply carries the key; the ingress reads the body only
        // for a request that still waits, and nobody waits past the deadline (a few seconds' grace).
        const key = this.keys.replyBody(item.reply.id);
        const ttlMs = Math.max(1000, (item.deadline ?? 0) - Date.now()) + 5000;
        into.push(commands.set(key, result, { ttlMs }));
        const reference: ReplyMessage = { ...item.reply, resultRef: key };
        into.push(commands.xadd(item.replyTo, encodeReply(reference), { noCreate: true }));
      } else {
        into.push(commands.xadd(item.replyTo, encodeReply(item.reply), { noCreate: true }));
      }
    }
    if (item.resultTtlS > 0)
      into.push(
        commands.set(this.keys.result(item.reply.id, item.tenant), encodeStoredReply(item.reply), {
          ttlS: item.resultTtlS,
        }),
      );
    return into;
  }
}
