import {
  isFinal,
  type Logger,
  type RequestKind,
  type RequestMessage,
  type RequestQueue,
  type ResultStore,
} from "@rsd/shared";
import { HttpError, UnavailableError } from "../http/errors.ts";
import type { IngressMetrics } from "../metrics.ts";
import type { PendingReplies } from "../replies/pending-replies.ts";
import type { Admission } from "../shedding/admission.ts";
import type { LoadShedder } from "../shedding/load-shedder.ts";
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
    };

    let claimed = false;
    try {
      if (input.idempotencyKey) {
        const hash = requestHash(input.idempotencyHashInput ?? input.payload, input.timeoutMs);
        const existing = await deps.idempotency.claim(input.idempotencyKey, message.id, hash);
        if (existing) return await this.followExisting(existing, input.async, message.deadline, now);
        claimed = true;
      }
      if (message.resultTtlS > 0) {
        await deps.results.markPending(
          { id: message.id, status: "pending", deadline: message.deadline, enqueuedAt: now },
          deps.resultTtlS,
        );
      }
    } catch (error) {
      if (error instanceof HttpError) throw error;
      this.deps.logger.warn("could not record the request", { requestId: message.id, error });
      // The request never ran: a retry with the same key must not follow it (see enqueue).
      if (claimed && input.idempotencyKey)
        await deps.idempotency.release(input.idempotencyKey).catch(() => {});
      throw new UnavailableError("Redis is unavailable; retry later", 1);
    }

    if (input.async) {
      await new Promise<void>((resolve, reject) =>
        this.enqueue(stream, message, input.idempotencyKey, reject, resolve),
      );
      return { kind: "accepted", id: message.id };
    }
    // Wait first, then enqueue: the wait is bounded by the deadline sweep even if Redis hangs, and
    // a failed enqueue ends the wait at once with 503.
    const wait = deps.pending.wait(message.id, message.deadline);
    this.enqueue(stream, message, input.idempotencyKey, () => deps.pending.unavailable(message.id));
    const outcome = await wait;
    if (outcome.kind === "reply") {
      deps.admission?.predictor?.observeProcessing(outcome.reply.processingMs);
      return { kind: "answered", reply: outcome.reply, totalMs: Date.now() - now };
    }
    if (outcome.kind === "unavailable") throw new UnavailableError("Redis is unavailable; retry later", 1);
    return { kind: outcome.kind, id: message.id };
  }

  /** GET /api/requests/:id — the stored outcome, or undefined when unknown or expired. */
  async status(id: string): Promise<RequestOutcome | undefined> {
    const record = await this.deps.results.read(id).catch((error: unknown) => {
      this.deps.logger.warn("reading a stored result failed", { requestId: id, error });
      throw new UnavailableError("Redis is unavailable; retry later", 1);
    });
    if (!record) return undefined;
    if (isFinal(record)) return { kind: "answered", reply: record, totalMs: 0 };
    return Date.now() > record.deadline ? { kind: "timeout", id } : { kind: "pending", id };
  }

  /** Puts `message` on `stream`; on failure the idempotency claim is undone before `onFailure` hears it. */
  private enqueue(
    stream: string,
    message: RequestMessage,
    idempotencyKey: string | undefined,
    onFailure: (error: UnavailableError) => void,
    onSent?: () => void,
  ): void {
    const failed = (error: unknown) => {
      this.deps.logger.debug("enqueue failed", { requestId: message.id, error });
      const unavailable = new UnavailableError("Redis is unavailable; retry later", 1);
      if (!idempotencyKey) return onFailure(unavailable);
      // Undo the claim so a retry with the same key is not stuck behind a request that never ran.
      void this.deps.idempotency
        .release(idempotencyKey)
        .catch(() => {})
        .then(() => onFailure(unavailable));
    };
    this.deps.queue.enqueue(stream, message, failed, onSent);
  }

  /** A duplicate of a request already accepted: answer with that request's id and outcome. */
  private async followExisting(
    id: string,
    async: boolean,
    deadline: number,
    startedAt: number,
  ): Promise<RequestOutcome> {
    const record = await this.deps.results.read(id);
    if (isFinal(record)) return { kind: "answered", reply: record, totalMs: Date.now() - startedAt };
    if (async) return { kind: "accepted", id };
    const until = Math.min(deadline, record?.status === "pending" ? record.deadline : deadline);
    const reply = await waitForFinal(this.deps.results, id, until, this.deps.shutdown);
    if (reply) return { kind: "answered", reply, totalMs: Date.now() - startedAt };
    return { kind: this.deps.shutdown.aborted ? "shutdown" : "timeout", id };
  }
}
