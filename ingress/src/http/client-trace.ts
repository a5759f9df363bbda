import { continueTrace } from "@rsd/shared";

/**
 * The traceparent a request goes on with when tracing is off: the client's trace (or a new one)
 * with a fresh span id for the gateway's hop. With tracing on, the ingress's server span supplies
 * it instead (tracing/server-spans.ts); the choice is made once at start, not per request.
 */
export function clientTraceparent(request: Request): string {
  return continueTrace(request.headers.get("traceparent") ?? undefined);
}
