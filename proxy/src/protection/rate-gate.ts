import type { FleetRateLimit, Logger } from "@rsd/shared";
import { type ReadGate, rest } from "./read-gate.ts";

/**
 * RATE_LIMIT_RPS: a reader takes one token of the fleet's budget per entry before it reads, and
 * gives back the tokens of entries it did not get. Without a token it waits for the time the
 * script names (at most a second), reading nothing, so the requests wait in Redis.
 */
export class RateGate implements ReadGate {
  constructor(
    private readonly limit: FleetRateLimit,
    private readonly logger: Logger,
  ) {}

  async admit(wanted: number, signal: AbortSignal): Promise<number> {
    try {
      const { granted, waitMs } = await this.limit.take(wanted);
      if (granted > 0) return granted;
      await rest(Math.min(1000, waitMs), signal);
    } catch (error) {
      // Redis is away: reading would fail too. Nothing is taken, so nothing goes past the budget.
      this.logger.debug("rate limit unavailable", { error });
      await rest(100, signal);
    }
    return 0;
  }

  unused(count: number): void {
    this.limit
      .giveBack(count)
      .catch((error: unknown) => this.logger.debug("rate limit give-back failed", { error }));
  }
}
