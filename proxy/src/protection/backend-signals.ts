/**
 * What one backend call said about the backend, as the http handler classifies it: the one
 * feed for the adaptive limit and the circuit breaker, so they never disagree about a call.
 * - `ok`: an answer below 500 (a 4xx is the client's problem, not the backend's load);
 * - `overload`: 429, or 503 with Retry-After (the backend asks for less);
 * - `failure`: another 5xx, or the connection failed;
 * - `timeout`: the request's deadline cut the call off (its duration is censored, not a latency).
 */
export type CallOutcome = "ok" | "overload" | "failure" | "timeout";

export interface BackendObserver {
  observe(outcome: CallOutcome, ms: number): void;
}

/** Several observers behind one (the limiter and the breaker, when both are on). */
export function observers(list: (BackendObserver | undefined)[]): BackendObserver | undefined {
  const present = list.filter((observer): observer is BackendObserver => observer !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return {
    observe(outcome, ms) {
      for (const observer of present) observer.observe(outcome, ms);
    },
  };
}
