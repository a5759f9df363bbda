import { createHash } from "node:crypto";
import type { IdempotencyStore } from "@rsd/shared";
import { HttpError } from "../http/errors.ts";

/** Keys are client-chosen: bounded and printable so they are safe as part of a Redis key. */
const keyPattern = /^[A-Za-z0-9._:~+/=-]{1,200}$/;

export class IdempotencyConflictError extends HttpError {
  constructor() {
    super(422, "Idempotency-Key was already used with a different request (payload or timeoutMs)");
  }
}

export class InvalidIdempotencyKeyError extends HttpError {
  constructor() {
    super(400, "Idempotency-Key must be 1-200 characters of letters, digits and ._:~+/=-");
  }
}

/** The hash of the canonical request: the same key with a different request is a client bug (422). */
export function requestHash(payloadText: string, timeoutMs: number): string {
  return createHash("sha256").update(`${timeoutMs}\n${payloadText}`).digest("base64url");
}

/**
 * Claims an idempotency key for a new request id, atomically. When the key is taken, returns the
 * id of the request that owns it, after checking it was the same request.
 */
export class IdempotencyKeys {
  constructor(
    private readonly store: IdempotencyStore,
    private readonly ttlS: number,
  ) {}

  validate(key: string): void {
    if (!keyPattern.test(key)) throw new InvalidIdempotencyKeyError();
  }

  /** The existing request id, or undefined when `id` now owns the key. */
  async claim(key: string, id: string, hash: string, tenant?: string): Promise<string | undefined> {
    const owner = await this.store.claim(key, { requestId: id, hash }, this.ttlS, tenant);
    if (owner === undefined) return undefined;
    if (owner.hash !== hash) throw new IdempotencyConflictError();
    return owner.requestId;
  }

  async release(key: string, tenant?: string): Promise<void> {
    await this.store.release(key, tenant);
  }
}
