import {
  isFinal,
  type Logger,
  neverRan,
  type RequestKind,
  type RequestMessage,
  type RequestQueue,
  type ResultStore,
  type StoredRecord,
} from "@rsd/shared";
import { HttpError, UnavailableError } from "../http/errors.ts";
import type { IngressMetrics } from "../metrics.ts";
import type { PendingReplies } from "../replies/pending-replies.ts";
import type { Admission } from "../shedding/admission.ts";
import type { LoadShedder } from "../shedding/load-shedder.ts";
import type { LaneRouter } from "../tenants/lane-router.ts";
import { type IdempotencyKeys, requestHash } from "./idempotency.ts";
import type { RequestOutcome } from "./outcome.ts";
import { waitForFinal } from "./results.ts";

export interface SubmitInput {
  /** The payload as JSON text (a client's JSON payload, or a ForwardedRequest envelope). */
  payload: string;
  kind: RequestKind;
  /** The backend may see it twice (idempotent method); an Idempotency-Key also makes it so. */
  retrySafe: boolean;
  timeoutMs: number;
  async: boolean;
  idempotencyKey?: string;
  /**
   * What identifies the request for its Idempotency-Key, when not the payload itself: a forwarded
   * request's payload also holds what the gateway adds per attempt (trace span, client address).
   */
  idempotencyHashInput?: string;
  traceparent?: string;
  /** Whose request it is (tenants/tenant-resolver.ts); undefined = `default`. */
  tenant?: string | undefined;
  /** RFC 9218 urgency from the `Priority` header, 0 (first) … 7 (tenants/priority.ts). */
  urgency?: number;
}

export interface RequestServiceDeps {
  /** The queue the requests go to, over the per-request connection: no point enqueueing while it is down. */
  queue: RequestQueue;
  replyStream: string;
  pending: PendingReplies;
  shedder: LoadShedder;
  /** The breaker and the predicted wait (BREAKER, ADMISSION); undefined when both are off. */
  admission?: Admission | undefined;
  idempotency: IdempotencyKeys;
  results: ResultStore;
  metrics: IngressMetrics;
  logger: Logger;
  resultTtlS: number;
  /** Aborted when the ingress shuts down: duplicate waits stop polling. */
  shutdown: AbortSignal;
  /** TENANT_LANES: lanes per (tenant, urgency) and the tenant quotas; undefined when off. */
  lanes?: LaneRouter | undefined;
}

/**
 * Puts requests on the stream and waits for their outcome. The controllers validate the input
 * and the presenters turn outcomes into answers; a refusal (overload, Redis away, a reused
 * Idempotency-Key) is thrown as the HttpError the error plugin answers with.
 */
export class RequestService {
  constructor(private readonly deps: RequestServiceDeps) {}

  async submit(input: SubmitInput): Promise<RequestOutcome> {
    const { deps } = this;
    const now = Date.now();
    const lag = deps.shedder.overloadedBy(now);
    if (lag !== undefined) {
      deps.metrics.shed.inc({ reason: "depth" });
      throw new UnavailableError(
        `overloaded: ${lag} requests are waiting; retry later`,
        deps.shedder.retryAfterS,
      );
    }
    const memory = deps.shedder.memoryFullAt(now);
    if (memory !== undefined) {
      deps.metrics.shed.inc({ reason: "memory" });
      throw new UnavailableError(
        `overloaded: Redis is ${Math.floor(memory)}% full; retry later`,
        deps.shedder.retryAfterS,
      );
    }
    if (deps.lanes) {
      const refusal = deps.lanes.admit(input.tenant, now);
      if (refusal) {
        // A tenant over its own quota (429) is not the queue being full for everyone (503).
        deps.metrics.shed.inc({ reason: refusal.reason });
        throw refusal.error;
      }
    }
    const refusal = deps.admission?.refuse(input.timeoutMs, now);
    if (refusal) {
      deps.metrics.shed.inc({ reason: refusal.reason });
      throw new UnavailableError(refusal.message, refusal.retryAfterS);
    }
    if (!deps.queue.ready) throw new UnavailableError("Redis is unavailable; retry later", 1);
    const stream = deps.shedder.pickStream(now);
    if (stream === undefined) {
      deps.metrics.shed.inc({ reason: "shards" });
      throw new UnavailableError(
        "every queue shard is full or unreachable; retry later",
        deps.shedder.retryAfterS,
      );
    }

    const message: RequestMessage = {
      id: Bun.randomUUIDv7(),
      replyTo: input.async ? "" : deps.replyStream,
      deadline: now + input.timeoutMs,
      enqueuedAt: now,
      payload: input.payload,
      kind: input.kind,
      retrySafe: input.retrySafe || input.idempotencyKey !== undefined,
      attempt: 1,
      resultTtlS: input.async || input.idempotencyKey ? deps.resultTtlS : 0,
      ...(input.traceparent ? { traceparent: input.traceparent } : {}),
      tenant: input.tenant,
    };
    const tenant = input.tenant;
    const urgency = input.urgency ?? 3;

    try {
      if (input.idempotencyKey) {
        const hash = requestHash(input.idempotencyHashInput ?? input.payload, input.timeoutMs);
        const existing = await deps.idempotency.claim(input.idempotencyKey, message.id, hash, tenant);
        if (existing)
          return await this.followExisting({
            id: existing,
            async: input.async,
            deadline: message.deadline,
            startedAt: now,
            tenant,
          });
      }
      if (message.resultTtlS > 0) {
        await deps.results.markPending(
          { id: message.id, status: "pending", deadline: message.deadline, enqueuedAt: now },
          deps.resultTtlS,
          tenant,
        );
      }
    } catch (error) {
      if (error instanceof HttpError) throw error;
      this.deps.logger.warn("could not record the request", { requestId: message.id, error });
      // The request never ran: a retry with the same key must not follow it. Also when the claim
      // itself failed: its SET may still run once a hung Redis resumes (see releaseClaim).
      if (input.idempotencyKey)
        await deps.idempotency.releaseClaim(input.idempotencyKey, message.id, deps.shutdown, tenant);
      throw new UnavailableError("Redis is unavailable; retry later", 1);
    }

    if (input.async) {
      const sent = await new Promise<boolean>((resolve, reject) =>
        this.enqueue({
          stream,
          message,
          urgency,
          idempotencyKey: input.idempotencyKey,
          onRefused: reject,
          onSent: () => resolve(true),
          onUnknown: () => resolve(false),
        }),
      );
      // Maybe queued, maybe not: not a 503 that invites a second copy; 504 with the id to poll.
      return sent ? { kind: "accepted", id: message.id } : { kind: "timeout", id: message.id };
    }
    // Wait first, then enqueue: the wait is bounded by the deadline sweep even if Redis hangs, and
    // an enqueue that certainly failed ends the wait at once with 503. One whose outcome is unknown
    // keeps waiting: it may yet be answered, or it ends in 504 at the deadline.
    const wait = deps.pending.wait(message.id, message.deadline);
    this.enqueue({
      stream,
      message,
      urgency,
      idempotencyKey: input.idempotencyKey,
      onRefused: () => deps.pending.unavailable(message.id),
    });
    const outcome = await wait;
    if (outcome.kind === "reply") {
      deps.admission?.predictor?.observeProcessing(outcome.reply.processingMs);
      return { kind: "answered", reply: outcome.reply, totalMs: Date.now() - now };
    }
    if (outcome.kind === "unavailable") throw new UnavailableError("Redis is unavailable; retry later", 1);
    return { kind: outcome.kind, id: message.id };
  }

  /** GET /api/requests/:id — `tenant`'s stored outcome, or undefined when unknown, expired or another's. */
  async status(id: string, tenant?: string): Promise<RequestOutcome | undefined> {
    const record = await this.deps.results.read(id, tenant).catch((error: unknown) => {
      this.deps.logger.warn("reading a stored result failed", { requestId: id, error });
      throw new UnavailableError("Redis is unavailable; retry later", 1);
    });
    if (!record) return undefined;
    if (isFinal(record)) return { kind: "answered", reply: record, totalMs: 0 };
    return Date.now() > record.deadline ? { kind: "timeout", id } : { kind: "pending", id };
  }

  /**
   * Puts `message` on `stream` (TENANT_LANES: on its lane of that shard). A failure that certainly
   * left nothing on the stream (never sent, or refused by Redis) undoes the idempotency claim
   * before `onRefused` hears it. A connection lost after the write left is different: Redis may
   * still run it (a paused server executes what it had read when it resumes), so the claim stays
   * and `onUnknown` hears it; answering that with 503 would invite the client to send a second copy.
   */
  private enqueue(put: {
    stream: string;
    message: RequestMessage;
    urgency: number;
    idempotencyKey: string | undefined;
    onRefused: (error: UnavailableError) => void;
    onSent?: () => void;
    onUnknown?: () => void;
  }): void {
    const { stream, message, idempotencyKey, onRefused, onSent } = put;
    const failed = (error: unknown) => {
      if (!neverRan(error)) {
        this.deps.logger.warn("enqueue outcome unknown: Redis went away after the request was sent", {
          requestId: message.id,
          error,
        });
        put.onUnknown?.();
        return;
      }
      this.deps.logger.debug("enqueue failed", { requestId: message.id, error });
      const unavailable = new UnavailableError("Redis is unavailable; retry later", 1);
      if (!idempotencyKey) return onRefused(unavailable);
      // Undo the claim so a retry with the same key is not stuck behind a request that never ran.
      void this.deps.idempotency
        .releaseClaim(idempotencyKey, message.id, this.deps.shutdown, message.tenant)
        .then(() => onRefused(unavailable));
    };
    const toLane = this.deps.lanes?.enqueue(stream, message, put.urgency);
    if (toLane) void toLane.then(onSent, failed);
    else this.deps.queue.enqueue(stream, message, failed, onSent);
  }

  /** A duplicate of a request already accepted: answer with that request's id and outcome. */
  private async followExisting(first: {
    id: string;
    async: boolean;
    deadline: number;
    startedAt: number;
    tenant: string | undefined;
  }): Promise<RequestOutcome> {
    const { id, async, deadline, startedAt, tenant } = first;
    const record = await this.ownerRecord(id, tenant);
    if (isFinal(record)) return { kind: "answered", reply: record, totalMs: Date.now() - startedAt };
    if (async) return { kind: "accepted", id };
    const until = Math.min(deadline, record.status === "pending" ? record.deadline : deadline);
    const reply = await waitForFinal({
      results: this.deps.results,
      id,
      tenant,
      deadline: until,
      signal: this.deps.shutdown,
    });
    if (reply) return { kind: "answered", reply, totalMs: Date.now() - startedAt };
    return { kind: this.deps.shutdown.aborted ? "shutdown" : "timeout", id };
  }

  /**
   * The stored record of the request that holds a key. Its owner stores it right after claiming
   * the key, so a missing one gets a moment to appear. One that never does belongs to a request
   * that was never recorded: a claim a hung Redis stored after its ingress had given up on it,
   * until that ingress removes it. Following it would wait for an answer that cannot come (and
   * accept an async duplicate under an id nobody will answer), so the duplicate is refused: it was
   * not queued, and its retry finds the key free.
   */
  private async ownerRecord(id: string, tenant: string | undefined): Promise<StoredRecord> {
    const giveUpAt = Date.now() + ownerRecordGraceMs;
    for (;;) {
      const record = await this.deps.results.read(id, tenant);
      if (record) return record;
      if (Date.now() >= giveUpAt || this.deps.shutdown.aborted)
        throw new UnavailableError(
          "the request holding this Idempotency-Key was not recorded; retry later",
          1,
        );
      await Bun.sleep(50);
    }
  }
}

/** How long a duplicate waits for the stored record of the request holding its key. */
const ownerRecordGraceMs = 1_000;
