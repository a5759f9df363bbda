import type { BackendPause, Logger } from "@rsd/shared";
import type { BackendObserver, CallOutcome } from "./backend-signals.ts";
import { type ReadGate, rest } from "./read-gate.ts";

/** A probe whose call never reported (its request expired before the call) is given up after this. */
const probeGiveUpMs = 5_000;

/**
 * BACKEND_PAUSE=on: while the backend's pause lasts (`<prefix>:pause`, set by whichever pod met
 * the 429 first, read here every 200 ms), nothing is read. When it ends, each pod sends one probe
 * call before it reads in bulk again, so a storm that outlasts its Retry-After meets a few calls,
 * not every terminal of the fleet at once.
 */
export class PauseGate implements ReadGate, BackendObserver {
  private pausedUntil = 0;
  private probing = false;
  /** When the probe call was admitted (0 = none out). */
  private probeOutAt = 0;

  constructor(
    private readonly pause: BackendPause,
    private readonly logger: Logger,
    private readonly onPause: () => void,
  ) {}

  /** This pod's call was told to pause for `ms`: the fleet hears it through Redis. */
  paused(ms: number): void {
    this.onPause();
    this.hold(ms);
    this.pause
      .pause(ms)
      .catch((error: unknown) => this.logger.warn("could not share a backend pause", { error }));
  }

  /** Reads the fleet's pause (periodic). */
  async refresh(): Promise<void> {
    const left = await this.pause.left();
    if (left > 0) this.hold(left);
  }

  /** The pause left as this pod knows it, ms. */
  get leftMs(): number {
    return Math.max(0, this.pausedUntil - Date.now());
  }

  async admit(wanted: number, signal: AbortSignal): Promise<number> {
    const now = Date.now();
    const left = this.pausedUntil - now;
    if (left > 0) {
      // Spread the end of the pause a little over the fleet's readers.
      await rest(Math.min(left, 250) + Math.random() * 25, signal);
      return 0;
    }
    if (!this.probing) return wanted;
    if (this.probeOutAt > 0 && now - this.probeOutAt < probeGiveUpMs) {
      await rest(25, signal);
      return 0;
    }
    this.probeOutAt = now;
    return 1;
  }

  unused(count: number): void {
    if (count > 0) this.probeOutAt = 0;
  }

  observe(outcome: CallOutcome): void {
    if (!this.probing) return;
    this.probeOutAt = 0;
    if (outcome !== "overload") this.probing = false;
  }

  private hold(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.probing = true;
    this.probeOutAt = 0;
  }
}
