import { createHash } from "node:crypto";
import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";
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
 * Claims an idempotency key for a new request id, atomically (SET NX). When the key is taken,
 * returns the id of the request that owns it, after checking it was the same request.
 */
export class IdempotencyKeys {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly ttlS: number,
  ) {}

  validate(key: string): void {
    if (!keyPattern.test(key)) throw new InvalidIdempotencyKeyError();
  }

  /** The existing request id, or undefined when `id` now owns the key. */
  async claim(key: string, id: string, hash: string): Promise<string | undefined> {
    const redisKey = this.keys.idempotency(key);
    const claimed = await this.redis.set(redisKey, `${id} ${hash}`, "EX", this.ttlS, "NX");
    if (claimed === "OK") return undefined;
    const existing = await this.redis.get(redisKey);
    if (existing === null) return await this.claim(key, id, hash); // expired in between
    const [existingId, existingHash] = existing.split(" ");
    if (existingHash !== hash) throw new IdempotencyConflictError();
    return existingId;
  }

  async release(key: string): Promise<void> {
    await this.redis.del(this.keys.idempotency(key));
  }
}
