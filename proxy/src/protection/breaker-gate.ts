import type { BreakerConfig, BreakerStateCode, CircuitBreaker, Logger } from "@rsd/shared";
import type { BackendObserver, CallOutcome } from "./backend-signals.ts";
import { type ReadGate, rest } from "./read-gate.ts";

/**
 * BREAKER=on, in a proxy: counts its calls' outcomes and reports them to the fleet's breaker
 * every 200 ms (failures: 5xx, connection errors, timeouts; a 429 is the pause's business). While
 * the breaker is open nothing is read, so queued requests wait in Redis without burning attempts;
 * half-open, only the probes the breaker grants (a few per second, fleet-wide) are read.
 */
export class BreakerGate implements ReadGate, BackendObserver {
  state: BreakerStateCode = 0;
  private leftMs = 0;
  private readAt = 0;
  private ok = 0;
  private failed = 0;

  constructor(
    private readonly breaker: CircuitBreaker,
    private readonly config: BreakerConfig,
    private readonly logger: Logger,
  ) {}

  observe(outcome: CallOutcome): void {
    if (outcome === "ok") this.ok++;
    else if (outcome !== "overload") this.failed++;
  }

  /** Reports the counts since the last round and reads the state (periodic). */
  async sync(): Promise<void> {
    const ok = this.ok;
    const failed = this.failed;
    this.ok = 0;
    this.failed = 0;
    try {
      this.remember(await this.breaker.report(ok, failed, this.config));
    } catch (error) {
      // Not reported: counted again next round.
      this.ok += ok;
      this.failed += failed;
      throw error;
    }
  }

  async admit(wanted: number, signal: AbortSignal): Promise<number> {
    if (this.state === 0) return wanted;
    if (this.state === 2) {
      const left = this.leftMs - (Date.now() - this.readAt);
      await rest(Math.max(20, Math.min(200, left)), signal);
      return 0;
    }
    try {
      const reading = await this.breaker.probe(wanted, this.config.probes);
      this.remember(reading);
      if (reading.granted > 0 || reading.state === 0) return reading.state === 0 ? wanted : reading.granted;
    } catch (error) {
      this.logger.debug("breaker probe unavailable", { error });
    }
    await rest(100, signal);
    return 0;
  }

  /**
   * An entry read in half-open made no call (its deadline had passed): its probe goes back, or a
   * queue full of expired requests would use every probe and the breaker could never close.
   */
  notCalled(): void {
    if (this.state !== 1) return;
    this.breaker
      .giveBack(1)
      .catch((error: unknown) => this.logger.debug("breaker give-back failed", { error }));
  }

  unused(_count: number): void {
    // Unused probes are not given back: fewer probes is the safe side.
  }

  private remember(reading: { state: BreakerStateCode; leftMs: number }): void {
    if (reading.state !== this.state)
      this.logger.info("circuit breaker", { state: ["closed", "half-open", "open"][reading.state] });
    this.state = reading.state;
    this.leftMs = reading.leftMs;
    this.readAt = Date.now();
  }
}
