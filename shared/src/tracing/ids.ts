/**
 * The span id of a request's attempt, derived from its request id and attempt number. Attempt
 * n + 1 links to attempt n (a retry or a reclaim) without the earlier span id being written into
 * the request record, and even when the pod that ran attempt n died before saying anything.
 * Request ids are UUIDs, so two attempts of one trace never share an id.
 */
export function attemptSpanId(requestId: string, attempt: number): string {
  const hash = Bun.hash.wyhash(`${requestId}/${attempt}`, 0x7273_6474n);
  return (hash === 0n ? 1n : hash).toString(16).padStart(16, "0");
}

/**
 * Whether a traceparent's sampled flag is set. With a parent-based sampler an unsampled parent
 * means no span below it is recorded, so the proxy skips making them (Tracing.followsParent).
 */
export function isSampled(traceparent: string | undefined): boolean {
  return (
    traceparent !== undefined &&
    traceparent.length === 55 &&
    (parseInt(traceparent[54] as string, 16) & 1) === 1
  );
}

/** A traceparent for the span `spanId` in the trace of `traceparent` (sampled flag kept). */
export function withSpanId(traceparent: string, spanId: string): string {
  return `${traceparent.slice(0, 36)}${spanId}${traceparent.slice(52)}`;
}
