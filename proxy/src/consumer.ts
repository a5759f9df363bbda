import { isRedisError, type Logger, type RequestQueue } from "@rsd/shared";
import type { LaneReader } from "./lanes/lane-reader.ts";
import type { ReadGate } from "./protection/read-gate.ts";
import type { Reclaimer } from "./recovery/reclaimer.ts";
import type { TerminalPool } from "./terminal-pool.ts";
import type { TerminalRunner } from "./terminal-runner.ts";

export interface ReaderOptions {
  /** The queue over one dedicated blocking connection for this reader's stream. */
  queue: RequestQueue;
  stream: string;
  /** This pod: its consumer name in the group. */
  pod: string;
  pool: TerminalPool;
  runner: TerminalRunner;
  reclaimer: Reclaimer;
  logger: Logger;
  /** How long one read blocks; short with several shards, so reserved terminals circulate. */
  blockMs: number;
  /**
   * Answers finished but not yet written (Redis refusing them, e.g. out of memory): while they
   * are as many as the terminals, nothing new is read, so they cannot pile up in memory.
   */
  unwritten: () => number;
  /** TENANT_LANES: this shard's entries come from the fair dispatch instead of one XREADGROUP. */
  lanes?: LaneReader | undefined;
  /** Backend pause, breaker, rate limit (protection/); undefined when all are off. */
  gate?: ReadGate | undefined;
}

/**
 * The read loop of one request stream: XREADGROUP on a dedicated blocking connection, asking for
 * exactly as many entries as it has reserved free terminals, never more. A busy pod does not
 * read at all, so requests wait in Redis (not in memory) and go to whichever pod frees a terminal
 * first. With several shards each reader reserves its share of the free terminals.
 */
export class StreamReader {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  healthy = false;

  constructor(
    private readonly options: ReaderOptions,
    private readonly shareOfFree: () => number,
  ) {}

  start(): this {
    this.running ??= this.run();
    return this;
  }

  /** Stops reading; the read in flight (at most `blockMs`) returns and its entries still run. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private async run(): Promise<void> {
    const { queue, stream, pod, pool, runner, logger, blockMs, gate } = this.options;
    const signal = this.abort.signal;
    let recovered = false;
    let failures = 0;
    while (!signal.aborted) {
      await pool.whenFree(signal);
      if (signal.aborted) break;
      if (this.options.unwritten() >= pool.size) {
        await Bun.sleep(50);
        continue;
      }
      if (!queue.ready) {
        this.healthy = false;
        await queue.waitUntilReady(1000, signal);
        continue;
      }
      const slots = pool.reserve(this.shareOfFree());
      if (slots.length === 0) {
        await Bun.sleep(1); // another reader took the free terminals; wait for the next release
        continue;
      }
      try {
        if (!recovered) {
          // A full Redis refuses XGROUP CREATE (denyoom) even when the group exists, but not
          // XREADGROUP: a proxy starting then must still drain, as draining is what frees room.
          // A group that is really missing shows up as NOGROUP on the read below.
          await queue.ensureGroup(stream).catch((error: unknown) => {
            if (!isRedisError(error, "OOM")) throw error;
          });
          await this.recoverOwnPending();
          recovered = true;
        }
        let admitted = slots.length;
        if (gate) {
          admitted = await gate.admit(slots.length, signal);
          if (admitted === 0) continue; // the finally gives the slots back
          while (slots.length > admitted) pool.unreserve(slots.pop() as number);
        }
        let read: number;
        if (this.options.lanes) {
          // Each entry on its own lane's stream: its ack, retry and reclaim stay on that lane.
          const entries = await this.options.lanes.read(pod, slots.length, blockMs);
          read = entries.length;
          for (const [lane, id, fields] of entries) runner.dispatch(lane, id, fields, slots.pop() as number);
        } else {
          const entries = await queue.readNew({ stream, pod, count: slots.length, blockMs });
          read = entries.length;
          // Fields are never null for new entries (">"); an empty list would be dead-lettered as malformed.
          for (const [id, fields] of entries)
            runner.dispatch(stream, id, fields ?? [], slots.pop() as number);
        }
        if (gate && read < admitted) gate.unused(admitted - read);
        this.healthy = true;
        failures = 0;
      } catch (error) {
        if (isRedisError(error, "NOGROUP")) {
          // Redis restarted empty: recreate the group from 0 so requests queued meanwhile are read.
          logger.warn("consumer group missing; recreating it", { stream });
          await queue.ensureGroup(stream).catch(() => {});
        } else if (!signal.aborted) {
          this.healthy = false;
          failures++;
          if (failures === 1) logger.warn("reading the request stream failed", { stream, error });
          await Bun.sleep(Math.min(1000, 50 * failures));
        }
      } finally {
        for (const slot of slots) pool.unreserve(slot);
      }
    }
    this.healthy = false;
  }

  /**
   * Entries this consumer name already holds were read by a previous life of this pod that
   * died: that attempt counts as failed, and they go back to the queue (or to dead letters).
   */
  private async recoverOwnPending(): Promise<void> {
    const { queue, stream, pod, reclaimer, logger } = this.options;
    let cursor = "0";
    for (;;) {
      // Fields are null for an entry deleted while this consumer held it: recover() acks it.
      const entries = await queue.readOwnPending({ stream, pod, after: cursor, count: 100 });
      if (entries.length === 0) return;
      logger.info("recovering entries held by this pod's previous run", { stream, count: entries.length });
      for (const entry of entries) reclaimer.recover(stream, entry);
      cursor = entries[entries.length - 1]?.[0] ?? cursor;
    }
  }
}

/** How long one read blocks: short with several shards, so reserved terminals circulate. */
export function readerBlockMs(shards: number): number {
  return shards > 1 ? 200 : 1000;
}

/** All readers of a pod, one per request stream, sharing its terminals. */
export class Consumer {
  readonly readers: StreamReader[];

  constructor(
    options: Omit<ReaderOptions, "stream" | "queue" | "blockMs">,
    /** One queue per request stream, each over its own blocking connection. */
    queues: RequestQueue[],
    /** TENANT_LANES: one lane reader per shard, over the same connections. */
    lanes?: LaneReader[],
  ) {
    const streams = queues[0]?.keys.requestStreams ?? [];
    // Each reader asks for its share of the free terminals (at least one), so one shard's
    // blocked read cannot hold every terminal while another shard has work.
    const share = () => Math.max(1, Math.floor(options.pool.freeCount / streams.length));
    this.readers = streams.map(
      (stream, index) =>
        new StreamReader(
          {
            ...options,
            stream,
            queue: queues[index] as RequestQueue,
            blockMs: readerBlockMs(streams.length),
            lanes: lanes?.[index],
          },
          streams.length > 1 ? share : () => options.pool.freeCount,
        ),
    );
  }

  get healthy(): boolean {
    // Ready while any shard can be read: one unreachable Redis node must not take the pod out.
    return this.readers.some((reader) => reader.healthy);
  }

  start(): void {
    for (const reader of this.readers) reader.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.readers.map((reader) => reader.stop()));
  }
}
