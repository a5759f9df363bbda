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
  /** Claims being released in the background now. */
  private releasing = 0;

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

  /**
   * Undoes `id`'s claim on `key`, for a request that was never queued. When Redis cannot be
   * reached now, it is tried again in the background once the connection is back: the claim's SET
   * may still run after its connection was lost (a hung Redis runs what it had read when it
   * resumes), and a claim left behind would make every retry with the key wait for a request that
   * never ran, for RESULT_TTL_S. Bounded: a few tries, at most `maxReleasing` keys at once.
   */
  async releaseClaim(key: string, id: string, signal: AbortSignal, tenant?: string): Promise<void> {
    if (await this.tryRelease(key, id, tenant)) return;
    if (this.releasing >= maxReleasing) return;
    this.releasing++;
    void this.releaseWhenBack(key, id, signal, tenant).finally(() => this.releasing--);
  }

  private async releaseWhenBack(
    key: string,
    id: string,
    signal: AbortSignal,
    tenant: string | undefined,
  ): Promise<void> {
    for (let attempt = 0; attempt < releaseAttempts && !signal.aborted; attempt++) {
      await this.store.waitUntilReady(releaseWaitMs, signal);
      if (await this.tryRelease(key, id, tenant)) return;
      await Bun.sleep(releaseWaitMs / 10);
    }
  }

  private async tryRelease(key: string, id: string, tenant: string | undefined): Promise<boolean> {
    try {
      await this.store.releaseIfOwner(key, id, tenant);
      return true;
    } catch {
      return false;
    }
  }
}

/** Claims being released in the background at most (beyond it, a claim is left to its TTL). */
const maxReleasing = 10_000;
const releaseAttempts = 5;
const releaseWaitMs = 10_000;
