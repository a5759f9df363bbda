/**
 * What happened to one request, reduced to what the summary counts: the HTTP status (null when
 * no response came) and a cause a person can act on (a shed 503 needs more capacity, a refused
 * connection a running server).
 */
export type Cause =
  | "ok"
  | "timeout"
  | "shed"
  | "failed"
  | "bad-request"
  | "throttled"
  | "unauthorized"
  | "too-large"
  | "conflict"
  | "not-found"
  | "http-error"
  | "unexpected-body"
  | "connection-refused"
  | "connection-reset"
  | "network-error";

export interface Outcome {
  status: number | null;
  cause: Cause;
  /** From a completed reply: which pod served it, and the server's own timing split. */
  pod?: string;
  queuedMs?: number;
  processingMs?: number;
  /** The identity it was sent as (see identities.ts), when a run mixes several. */
  tenant?: string;
}

export const causeLabels: Record<Cause, string> = {
  ok: "ok",
  timeout: "timeout (504, or no answer within --timeout)",
  shed: "overloaded / shed (503)",
  failed: "processing failed (502)",
  "bad-request": "rejected as invalid (400)",
  throttled: "over the tenant's quota (429)",
  unauthorized: "missing or wrong API key (401/403): pass --api-key",
  "too-large": "payload too large (413)",
  conflict: "idempotency conflict (422)",
  "not-found": "not found (404)",
  "http-error": "other HTTP status",
  "unexpected-body": "2xx with an unexpected body",
  "connection-refused": "connection refused",
  "connection-reset": "connection reset",
  "network-error": "other network error",
};

/** Maps a final HTTP status to its cause (200 is checked separately, against the body). */
export function causeOfStatus(status: number): Cause {
  switch (status) {
    case 400:
      return "bad-request";
    case 401:
    case 403:
      return "unauthorized";
    case 404:
      return "not-found";
    case 413:
      return "too-large";
    case 422:
      return "conflict";
    case 429:
      return "throttled";
    case 502:
      return "failed";
    case 503:
      return "shed";
    case 504:
      return "timeout";
    default:
      return "http-error";
  }
}

/** Maps a fetch failure to its cause; Bun reports errno-style codes on `code`, aborts by name. */
export function causeOfError(error: unknown): Cause {
  const { name, code } = (error ?? {}) as { name?: string; code?: string };
  if (name === "TimeoutError" || name === "AbortError") return "timeout";
  if (code === "ECONNREFUSED" || code === "ConnectionRefused") return "connection-refused";
  if (code === "ECONNRESET" || code === "ConnectionClosed" || code === "EPIPE") return "connection-reset";
  return "network-error";
}
