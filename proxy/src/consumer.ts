import {
  ensureGroup,
  isReady,
  isRedisError,
  type Logger,
  type StreamKeys,
  waitUntilReady,
} from "@rsd/shared";
import type Redis from "ioredis";
import type { Reclaimer } from "./recovery/reclaimer.ts";
import type { TerminalPool } from "./terminal-pool.ts";
import type { TerminalRunner } from "./terminal-runner.ts";

type StreamEntry = [id: string, fields: string[]];
type ReadGroupReply = [stream: string, entries: StreamEntry[]][] | null;

/**
 * The read loop: XREADGROUP on a dedicated blocking connection, asking for exactly as many
 * entries as there are free terminals, never more. A busy pod does not read at all, so requests
 * wait in Redis (not in memory) and go to whichever pod frees a terminal first.
 */
export class Consumer {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  healthy = false;

  constructor(
    private readonly connection: Redis,
    private readonly commands: Redis,
    private readonly keys: StreamKeys,
    private readonly name: string,
    private readonly pool: TerminalPool,
    private readonly runner: TerminalRunner,
    private readonly reclaimer: Reclaimer,
    private readonly logger: Logger,
    private readonly blockMs = 1000,
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
    const signal = this.abort.signal;
    let recovered = false;
    let failures = 0;
    while (!signal.aborted) {
      await this.pool.whenFree(signal);
      if (signal.aborted) break;
      if (!isReady(this.connection) || !isReady(this.commands)) {
        this.healthy = false;
        await waitUntilReady(this.connection, 1000, signal);
        await waitUntilReady(this.commands, 1000, signal);
        continue;
      }
      try {
        if (!recovered) {
          await ensureGroup(this.commands, this.keys);
          await this.recoverOwnPending();
          recovered = true;
        }
        const reply = (await this.connection.xreadgroup(
          "GROUP",
          this.keys.group,
          this.name,
          "COUNT",
          this.pool.freeCount,
          "BLOCK",
          this.blockMs,
          "STREAMS",
          this.keys.requests,
          ">",
        )) as ReadGroupReply;
        this.healthy = true;
        failures = 0;
        for (const [, entries] of reply ?? [])
          for (const [id, fields] of entries) this.runner.dispatch(id, fields);
      } catch (error) {
        if (isRedisError(error, "NOGROUP")) {
          // Redis restarted empty: recreate the group from 0 so requests queued meanwhile are read.
          this.logger.warn("consumer group missing; recreating it");
          await ensureGroup(this.commands, this.keys).catch(() => {});
          continue;
        }
        if (signal.aborted) break;
        this.healthy = false;
        failures++;
        if (failures === 1) this.logger.warn("reading the request stream failed", { error });
        await Bun.sleep(Math.min(1000, 50 * failures));
      }
    }
    this.healthy = false;
  }

  /**
   * Entries this consumer name already holds were read by a previous life of this pod that
   * died: that attempt counts as failed, and they go back to the queue (or to dead letters).
   */
  private async recoverOwnPending(): Promise<void> {
    // With an id instead of ">", XREADGROUP pages through this consumer's own pending entries.
    let cursor = "0";
    for (;;) {
      const reply = (await this.commands.xreadgroup(
        "GROUP",
        this.keys.group,
        this.name,
        "COUNT",
        100,
        "STREAMS",
        this.keys.requests,
        cursor,
      )) as ReadGroupReply;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) return;
      this.logger.info("recovering entries held by this pod's previous run", { count: entries.length });
      for (const entry of entries) this.reclaimer.recover(entry);
      cursor = entries[entries.length - 1]?.[0] ?? cursor;
    }
  }
}
