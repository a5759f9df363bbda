import type { RequestKind } from "@rsd/shared";

/**
 * The one small interface every backend handler implements. A terminal calls `handle` once per
 * request; `signal` aborts at the request's deadline, and the handler must stop then.
 */
export interface HandlerRequest {
  id: string;
  /** The client's payload as JSON text. */
  payload: string;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  /** Aborts at the deadline (or when the pod gives up the request). */
  signal: AbortSignal;
  attempt: number;
  /** `json` (POST /api/requests payload) or `http` (a ForwardedRequest from /proxy/*). */
  kind: RequestKind;
  /** The client allows repeating it against the backend. */
  retrySafe: boolean;
  traceparent?: string;
  /** Where and when it was queued, and the terminal running it: what its trace spans say (tracing/). */
  stream?: string;
  entryId?: string;
  enqueuedAt?: number;
  terminal?: number;
  /** Whose request it is, when a tenant other than `default` sent it. */
  tenant?: string | undefined;
}

export interface Handler {
  readonly name: string;
  /** Returns the result as JSON text; throws to fail the attempt (it is retried up to MAX_DELIVERIES). */
  handle(request: HandlerRequest): Promise<string>;
  /** The fixed processing time, when the handler knows it (for the fleet's capacity figure). */
  readonly nominalMs: number | null;
  close?(): Promise<void>;
}

/** A failure that retrying cannot fix (e.g. a request the backend refuses): dead-lettered at once. */
export class UnrecoverableError extends Error {
  override name = "UnrecoverableError";
}

/**
 * The backend asked for a pause (429, or 503 with Retry-After, BACKEND_PAUSE=on): it did not run
 * the request. The fleet pauses for `pauseMs` and the request goes back to the queue with the
 * same attempt number.
 */
export class BackendPausedError extends Error {
  override name = "BackendPausedError";
  constructor(
    readonly pauseMs: number,
    status: number,
  ) {
    super(`upstream answered ${status}; pausing ${pauseMs} ms`);
  }
}
