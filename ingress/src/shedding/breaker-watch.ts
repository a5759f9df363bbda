import type { BreakerStateCode, CircuitBreaker } from "@rsd/shared";

/**
 * BREAKER=on, in an ingress: the fleet's breaker state, read every 200 ms by a periodic task and
 * kept here, so refusing a request while it is open costs no Redis round trip.
 */
export class BreakerWatch {
  state: BreakerStateCode = 0;
  private untilMs = 0;
  private readAt = 0;

  constructor(private readonly breaker: CircuitBreaker) {}

  async refresh(): Promise<void> {
    const reading = await this.breaker.peek();
    this.state = reading.state;
    this.readAt = Date.now();
    this.untilMs = this.readAt + reading.leftMs;
  }

  /** The state as the console shows it; undefined while the last reading is stale. */
  view(now: number): { state: "closed" | "half-open" | "open"; openLeftMs: number } | undefined {
    if (now - this.readAt > 2000) return undefined;
    const state = this.state === 2 ? "open" : this.state === 1 ? "half-open" : "closed";
    return { state, openLeftMs: this.openLeftMs(now) };
  }

  /** Time left open by the last reading, ms; 0 when it is not open or the reading is stale. */
  openLeftMs(now: number): number {
    if (this.state !== 2 || now - this.readAt > 2000) return 0;
    return Math.max(0, this.untilMs - now);
  }
}
