import { isErrorReply, type Logger, type StreamConnection, type StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";
import { type EntryRef, idsByStream } from "../entry-ref.ts";

export interface ClaimKeeperOptions {
  /** The pod's command connection (ioredis). */
  commands: Redis;
  /** The pod's reply connection: a second way to Redis when the first is down. */
  fallback: StreamConnection;
  keys: StreamKeys;
  consumer: string;
  /** After this long without a refresh, another pod may take the work over (CLAIM_IDLE_MS). */
  claimIdleMs: number;
  logger: Logger;
  /** The entries this pod is answerable for: running, waiting out a retry backoff, being written. */
  held: () => EntryRef[];
}

/**
 * Keeps the claim on held work fresh: every third of CLAIM_IDLE_MS it re-claims the entries this
 * pod is still answerable for (XCLAIM … JUSTID to itself, which resets their idle time without
 * counting a delivery), so a slow terminal is never robbed mid-request by a reclaimer. A pod whose
 * command connection is down still refreshes over its reply connection: otherwise, after
 * CLAIM_IDLE_MS, another pod would run the same work a second time.
 */
export class ClaimKeeper {
  private lastRefresh = Date.now();
  private warned = false;

  constructor(private readonly options: ClaimKeeperOptions) {}

  async refresh(): Promise<void> {
    const { keys, consumer } = this.options;
    try {
      for (const [stream, ids] of idsByStream(this.options.held())) {
        const args = [stream, keys.group, consumer, "0", ...ids, "JUSTID"];
        await this.claim(args);
      }
      this.lastRefresh = Date.now();
      this.warned = false;
    } catch (error) {
      const staleMs = Date.now() - this.lastRefresh;
      if (staleMs > this.options.claimIdleMs && !this.warned) {
        this.warned = true;
        this.options.logger.warn(
          "claims not refreshed for longer than CLAIM_IDLE_MS: other pods may take this pod's work over",
          {
            staleMs,
            error,
          },
        );
      }
    }
  }

  private async claim(args: string[]): Promise<void> {
    const { commands, fallback } = this.options;
    if (commands.status === "ready") {
      try {
        await commands.call("XCLAIM", ...args);
        return;
      } catch (error) {
        if (isErrorReply(error)) throw error;
      }
    }
    await fallback.send("XCLAIM", args);
  }
}
