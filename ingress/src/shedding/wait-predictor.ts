import type { StreamSnapshot } from "@rsd/shared";

/** A snapshot older than this (the poll is failing) predicts nothing: admit. */
const staleAfterMs = 2000;

/**
 * ADMISSION=predictive: the wait a new request would face = entries ahead of it ÷ the fleet's
 * measured drain rate + the processing time. The drain rate is the growth of the group's
 * entries-read between two polls of the stream stats, taken only while a backlog existed (then it
 * is the fleet's capacity, not the arrival rate), smoothed. "Entries ahead" is the polled lag
 * plus what this ingress accepted since that poll, so a burst between two polls is not invisible.
 */
export class WaitPredictor {
  private snapshotAt = 0;
  private lastRead = 0;
  private lastLag = 0;
  /** Entries per ms; undefined until measured under a backlog. */
  private drainPerMs: number | undefined;
  private processingMs = 0;
  private acceptedSince = 0;

  constructor(private readonly latest: () => StreamSnapshot | undefined) {}

  /** The predicted wait, ms; undefined when there is no backlog or nothing is known yet. */
  predictedWaitMs(now: number): number | undefined {
    const snapshot = this.latest();
    if (!snapshot || now - snapshot.readAt > staleAfterMs) return undefined;
    if (snapshot.readAt !== this.snapshotAt) this.learn(snapshot);
    const ahead = snapshot.lag + this.acceptedSince;
    if (ahead === 0 || this.drainPerMs === undefined) return undefined;
    return this.drainPerMs > 0 ? ahead / this.drainPerMs + this.processingMs : Number.POSITIVE_INFINITY;
  }

  /** A request went in (counted until the next poll). */
  accepted(): void {
    this.acceptedSince++;
  }

  /** A reply's processing time (smoothed). */
  observeProcessing(ms: number): void {
    this.processingMs = this.processingMs === 0 ? ms : 0.9 * this.processingMs + 0.1 * ms;
  }

  private learn(snapshot: StreamSnapshot): void {
    const elapsed = snapshot.readAt - this.snapshotAt;
    const delivered = snapshot.read - this.lastRead;
    if (this.snapshotAt > 0 && elapsed > 0 && delivered >= 0 && this.lastLag > 0) {
      const rate = delivered / elapsed;
      this.drainPerMs = this.drainPerMs === undefined ? rate : 0.7 * this.drainPerMs + 0.3 * rate;
    }
    this.snapshotAt = snapshot.readAt;
    this.lastRead = snapshot.read;
    this.lastLag = snapshot.lag;
    this.acceptedSince = 0;
  }
}
