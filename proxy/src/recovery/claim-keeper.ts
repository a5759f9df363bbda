import { type EntryRef, isErrorReply, type Logger, type RequestQueue } from "@rsd/shared";

export interface ClaimKeeperOptions {
  /** The pod's command connection. */
  queue: RequestQueue;
  /** The same queue over the pod's reply connection: a second way to Redis when the first is down. */
  fallback: RequestQueue;
  /** This pod: the consumer the entries are claimed to. */
  pod: string;
  /** After this long without a refresh, another pod may take the work over (CLAIM_IDLE_MS). */
  claimIdleMs: number;
  logger: Logger;
  /** The entries this pod is answerable for: running, waiting out a retry backoff, being written. */
  held: () => EntryRef[];
}

/**
 * Keeps the claim on held work fresh: every third of CLAIM_IDLE_MS it re-claims the entries this
 * pod is still answerable for (which resets their idle time without counting a delivery), so a
 * slow terminal is never robbed mid-request by a reclaimer. A pod whose command connection is
 * down still refreshes over its reply connection: otherwise, after CLAIM_IDLE_MS, another pod
 * would run the same work a second time.
 */
export class ClaimKeeper {
  private lastRefresh = Date.now();
  private warned = false;

  constructor(private readonly options: ClaimKeeperOptions) {}

  async refresh(): Promise<void> {
    try {
      await this.claim(this.options.held());
      this.lastRefresh = Date.now();
      this.warned = false;
    } catch (error) {
      const staleMs = Date.now() - this.lastRefresh;
      if (staleMs > this.options.claimIdleMs && !this.warned) {
        this.warned = true;
        this.options.logger.warn(
          "claims not refreshed for longer than CLAIM_IDLE_MS: other pods may take this pod's work over",
          { staleMs, error },
        );
      }
    }
  }

  private async claim(entries: EntryRef[]): Promise<void> {
    const { queue, fallback, pod } = this.options;
    if (entries.length === 0) return;
    if (queue.ready) {
      try {
        await queue.keepClaims(pod, entries);
        return;
      } catch (error) {
        if (isErrorReply(error)) throw error;
      }
    }
    await fallback.keepClaims(pod, entries);
  }
}
