import { UnavailableError } from "../http/errors.ts";

/**
 * What one ingress holds for requests in progress — reading their body or waiting for their
 * reply — bounded in count (MAX_INFLIGHT) and in body bytes (MAX_INFLIGHT_BYTES), so a burst of
 * large or slow requests is answered 503 instead of taking the pod's memory. A request reserves
 * its declared Content-Length, or MAX_BODY_BYTES when it streams a chunked body of unknown size,
 * before a byte is read, and gives it back when it is answered, whatever the way out.
 */
export class InflightBudget {
  requests = 0;
  bytes = 0;

  constructor(private readonly limits: { maxRequests: number; maxBytes: number; maxBodyBytes: number }) {}

  /**
   * Takes room for `request`, or throws 503 (Retry-After: 1). Returns the bytes reserved, to be
   * handed back to `release` in a `finally`. Bodies over MAX_BODY_BYTES are the body reader's to
   * refuse (413): they reserve no more than the limit.
   */
  acquire(request: Request): number {
    const declared = request.headers.get("content-length");
    const size = declared === null ? this.limits.maxBodyBytes : Number(declared);
    const bytes = Number.isFinite(size) ? Math.min(Math.max(size, 0), this.limits.maxBodyBytes) : 0;
    if (this.requests >= this.limits.maxRequests)
      throw new UnavailableError(
        `overloaded: ${this.requests} requests in progress (MAX_INFLIGHT); retry later`,
        1,
      );
    if (this.bytes + bytes > this.limits.maxBytes)
      throw new UnavailableError(
        "overloaded: request bodies in progress fill MAX_INFLIGHT_BYTES; retry later",
        1,
      );
    this.requests++;
    this.bytes += bytes;
    return bytes;
  }

  release(bytes: number): void {
    this.requests--;
    this.bytes -= bytes;
  }
}

/** Runs `work` with room taken for `request` (or throws 503 first), and gives the room back after. */
export async function withinBudget<T>(
  budget: InflightBudget,
  request: Request,
  work: () => Promise<T>,
): Promise<T> {
  const reserved = budget.acquire(request);
  try {
    return await work();
  } finally {
    budget.release(reserved);
  }
}
