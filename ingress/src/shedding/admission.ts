import type { BreakerWatch } from "./breaker-watch.ts";
import type { WaitPredictor } from "./wait-predictor.ts";

/**
 * The predicted wait must fit in this share of the deadline: the rest covers the reply's way back
 * and the prediction's own error (a drain rate measured over 100 ms polls).
 */
const deadlineShare = 0.8;

/** A request refused at the door, before anything is written to Redis. */
export interface Refusal {
  reason: "breaker" | "predicted_wait";
  message: string;
  retryAfterS: number;
}

/**
 * The ingress's refusals beyond depth and memory (load-shedder.ts): an open breaker (BREAKER=on)
 * and a predicted wait longer than the request's deadline (ADMISSION=predictive). Both read
 * values polled in the background, never Redis per request.
 */
export class Admission {
  constructor(
    private readonly breaker: BreakerWatch | undefined,
    readonly predictor: WaitPredictor | undefined,
  ) {}

  refuse(timeoutMs: number, now: number): Refusal | undefined {
    const openMs = this.breaker?.openLeftMs(now) ?? 0;
    if (openMs > 0)
      return {
        reason: "breaker",
        message: "the backend is failing and the circuit breaker is open; retry later",
        retryAfterS: Math.max(1, Math.ceil(openMs / 1000)),
      };
    const waitMs = this.predictor?.predictedWaitMs(now);
    if (waitMs !== undefined && waitMs > deadlineShare * timeoutMs)
      return {
        reason: "predicted_wait",
        message: "overloaded: the predicted wait is longer than the request's deadline; retry later",
        // When a request like it would fit; at most 10 s, as the prediction is redone ten times a second.
        retryAfterS: Math.min(10, Math.max(1, Math.ceil((waitMs - deadlineShare * timeoutMs) / 1000))),
      };
    this.predictor?.accepted();
    return undefined;
  }
}
