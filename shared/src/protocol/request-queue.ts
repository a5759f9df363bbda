import type { AutoClaimed, RedisClient } from "./client/redis-client.ts";
import { isRedisError, type StreamEntry } from "./client/replies.ts";
import { type EntryRef, idsByStream } from "./entry-ref.ts";
import type { StreamKeys } from "./keys.ts";
import { encodeRequest, nextAttempt, type RequestMessage } from "./records/request.ts";
import { scripts } from "./scripts/index.ts";
import { TurnBatch } from "./turn-batch.ts";

/** One request stream's counts, as the stats and the load shedder read them. */
export interface ShardCounts {
  /** Entries in the stream (XLEN). */
  length: number;
  /** Entries not yet delivered to any consumer. */
  lag: number;
  /** Entries delivered but not yet acknowledged. */
  pending: number;
  /** Entries the group ever delivered (XINFO GROUPS entries-read; 0 when Redis cannot tell): its growth is the drain rate. */
  read: number;
}

/**
 * The request streams and their consumer group: how requests are queued, delivered to a pod
 * (`pod` is the consumer name), acknowledged, retried and taken over from a pod that stopped.
 */
export interface RequestQueue {
  readonly keys: StreamKeys;
  /** Its connection is up: commands sent now do not fail at once. */
  readonly ready: boolean;
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /**
   * Adds a request at the end of `stream`. Every enqueue of one event-loop turn leaves together at
   * its end; callbacks, not a promise, because this runs for every request.
   */
  enqueue(
    stream: string,
    message: RequestMessage,
    onError: (error: unknown) => void,
    onSent?: () => void,
  ): void;
  /** Creates the group (and stream) from id 0 if missing; true when it created it. */
  ensureGroup(stream: string): Promise<boolean>;
  /** Up to `count` entries never delivered before, blocking up to `blockMs`. Rejects NOGROUP when the group is gone. */
  readNew(options: { stream: string; pod: string; count: number; blockMs: number }): Promise<StreamEntry[]>;
  /** The entries `pod` already holds, after `after` (a previous life of the pod read them). */
  readOwnPending(options: {
    stream: string;
    pod: string;
    after: string;
    count: number;
  }): Promise<StreamEntry[]>;
  ack(entries: EntryRef[]): Promise<void>;
  /**
   * The next attempt goes to the end of the same stream, atomically with the ack; false when `pod`
   * no longer holds the entry. `sameAttempt`: the backend asked for a pause and never ran it, so
   * the copy keeps its attempt number (a pause never burns a delivery).
   */
  requeue(options: {
    pod: string;
    entry: EntryRef;
    message: RequestMessage;
    sameAttempt?: boolean;
  }): Promise<boolean>;
  /** Takes over entries idle longer than `minIdleMs`, one page from `cursor`. */
  claimIdle(options: {
    stream: string;
    pod: string;
    minIdleMs: number;
    cursor: string;
    count: number;
  }): Promise<AutoClaimed>;
  /** Resets the idle time of entries `pod` holds, so nobody takes them over. */
  keepClaims(pod: string, entries: EntryRef[]): Promise<void>;
  /** Trims `stream` below its oldest entry that still matters; the MINID used, if any. */
  trim(stream: string, page?: number): Promise<string | undefined>;
  /** Removes consumers other than `pod` that own nothing and were idle longer than `idleMs`. */
  forgetConsumers(stream: string, pod: string, idleMs: number): Promise<string[]>;
  counts(stream: string): Promise<ShardCounts>;
}

/** The request queue on Redis Streams (one stream per shard, consumer group `keys.group`). */
export class RedisRequestQueue implements RequestQueue {
  private readonly client: RedisClient;
  readonly keys: StreamKeys;
  private readonly batch: TurnBatch;

  constructor(options: { client: RedisClient; keys: StreamKeys }) {
    this.client = options.client;
    this.keys = options.keys;
    this.batch = new TurnBatch(this.client);
  }

  get ready(): boolean {
    return this.client.ready;
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.client.waitUntilReady(timeoutMs, signal);
  }

  enqueue(
    stream: string,
    message: RequestMessage,
    onError: (error: unknown) => void,
    onSent?: () => void,
  ): void {
    this.batch.xadd(stream, encodeRequest(message), onError, onSent);
  }

  /** From id `0`, never `$`: after Redis restarted empty, requests queued before the group came back must still be read. */
  ensureGroup(stream: string): Promise<boolean> {
    return this.client.xgroupCreate(stream, this.keys.group, "0");
  }

  readNew({ stream, pod, count, blockMs }: { stream: string; pod: string; count: number; blockMs: number }) {
    return this.client.xreadGroup(this.keys.group, pod, { stream, after: ">", count, blockMs });
  }

  readOwnPending({
    stream,
    pod,
    after,
    count,
  }: {
    stream: string;
    pod: string;
    after: string;
    count: number;
  }) {
    // With an id instead of ">", XREADGROUP pages through the consumer's own pending entries.
    return this.client.xreadGroup(this.keys.group, pod, { stream, after, count });
  }

  async ack(entries: EntryRef[]): Promise<void> {
    await Promise.all(
      [...idsByStream(entries)].map(([stream, ids]) => this.client.xack(stream, this.keys.group, ids)),
    );
  }

  async requeue({
    pod,
    entry,
    message,
    sameAttempt = false,
  }: {
    pod: string;
    entry: EntryRef;
    message: RequestMessage;
    sameAttempt?: boolean;
  }) {
    // Back onto the same stream (shard): one key, so the script is atomic on Redis Cluster too.
    const copy = sameAttempt ? message : nextAttempt(message);
    const args = [this.keys.group, pod, entry.id, ...encodeRequest(copy)];
    const id = await this.client.runScript(scripts.requeue, entry.stream, args);
    return typeof id === "string";
  }

  claimIdle(options: { stream: string; pod: string; minIdleMs: number; cursor: string; count: number }) {
    const { stream, pod, ...page } = options;
    return this.client.xautoclaim(stream, this.keys.group, pod, page);
  }

  async keepClaims(pod: string, entries: EntryRef[]): Promise<void> {
    for (const [stream, ids] of idsByStream(entries))
      await this.client.xclaimJustId(stream, this.keys.group, pod, ids);
  }

  async trim(stream: string, page = 2000): Promise<string | undefined> {
    const minId = await this.client.runScript(scripts.trim, stream, [this.keys.group, String(page)]);
    return typeof minId === "string" ? minId : undefined;
  }

  async forgetConsumers(stream: string, pod: string, idleMs: number): Promise<string[]> {
    const removed = await this.client.runScript(scripts.forgetConsumers, stream, [
      this.keys.group,
      pod,
      String(idleMs),
    ]);
    return Array.isArray(removed) ? removed.map(String) : [];
  }

  /**
   * Lag comes from XINFO GROUPS (Redis ≥ 7.0); when Redis cannot tell it (entries were deleted
   * inside the unread range) it is entries-added − entries-read. Two single commands, not a
   * pipeline, which on Redis Cluster could hang across a slots refresh.
   */
  async counts(stream: string): Promise<ShardCounts> {
    const [length, groups] = await Promise.all([
      this.client.xlen(stream),
      // A missing stream answers "ERR no such key": the same as an empty stream without a group.
      this.client.xinfoGroups(stream).catch((error: unknown) => {
        if (isRedisError(error, "ERR")) return [];
        throw error;
      }),
    ]);
    const group = groups.find((candidate) => candidate.name === this.keys.group);
    if (!group) return { length, lag: length, pending: 0, read: 0 };
    let lag: number;
    if (typeof group.lag === "number") lag = group.lag;
    else {
      const info = await this.client.xinfoStream(stream);
      lag = Math.max(0, Number(info["entries-added"] ?? 0) - Number(group["entries-read"] ?? 0));
    }
    return { length, lag, pending: Number(group.pending ?? 0), read: Number(group["entries-read"] ?? 0) };
  }
}
