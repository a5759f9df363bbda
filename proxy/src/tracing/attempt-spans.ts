import {
  ATTR_MESSAGING_CONSUMER_GROUP_NAME,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  ATTR_RSD_ATTEMPT,
  ATTR_RSD_KIND,
  ATTR_RSD_OUTCOME,
  ATTR_RSD_POD,
  ATTR_RSD_REQUEST_ID,
  ATTR_RSD_TENANT,
  ATTR_RSD_TERMINAL,
  attemptSpanId,
  isSampled,
  MESSAGING_SYSTEM_REDIS,
  type Tracing,
  withSpanId,
} from "@rsd/shared/tracing";
import { type Handler, type HandlerRequest, UnrecoverableError } from "../handlers/handler.ts";

/**
 * A handler with each attempt's spans around it (only when tracing is on; worker.ts):
 *
 * - `queue <stream>` (PRODUCER): the time the entry waited in the stream, from its enqueue (the
 *   ingress's clock for attempt 1, the retry's XADD time from the entry id after that) to its read.
 *   Emitted here, by the reader, with an explicit start time: the ingress cannot know the end.
 * - `process <stream>` (CONSUMER), its child: the attempt, with a span id derived from the request
 *   id and attempt number, so attempt n + 1 carries a link to attempt n whoever ran it.
 *
 * The handler sees the attempt span as its traceparent, so the HTTP client span hangs below it.
 */
export class TracedHandler implements Handler {
  readonly name: string;
  readonly nominalMs: number | null;

  constructor(
    private readonly inner: Handler,
    private readonly tracing: Tracing,
    /** The consumer group the proxies read with (StreamKeys.group). */
    private readonly group: string,
    private readonly pod: string,
  ) {
    this.name = inner.name;
    this.nominalMs = inner.nominalMs;
  }

  handle(request: HandlerRequest): Promise<string> {
    // Not sampled at the ingress (e.g. 99% of requests at a 1% ratio): no spans, no extra promise.
    if (this.tracing.followsParent && !isSampled(request.traceparent)) return this.inner.handle(request);
    return this.traced(request);
  }

  private async traced(request: HandlerRequest): Promise<string> {
    const readAt = Date.now();
    const stream = request.stream ?? "";
    const messaging = {
      [ATTR_MESSAGING_SYSTEM]: MESSAGING_SYSTEM_REDIS,
      [ATTR_MESSAGING_DESTINATION_NAME]: stream,
      [ATTR_MESSAGING_CONSUMER_GROUP_NAME]: this.group,
      [ATTR_MESSAGING_MESSAGE_ID]: request.entryId,
      [ATTR_RSD_REQUEST_ID]: request.id,
      [ATTR_RSD_ATTEMPT]: request.attempt,
    };
    const queue = this.tracing.startSpan({
      name: `queue ${stream}`,
      kind: "producer",
      parent: request.traceparent,
      startTime: Math.min(readAt, queuedSince(request) ?? readAt),
      attributes: {
        ...messaging,
        [ATTR_MESSAGING_OPERATION_TYPE]: "send",
        [ATTR_MESSAGING_OPERATION_NAME]: "queue",
      },
    });
    queue.end(readAt);
    const span = this.tracing.startSpan({
      name: `process ${stream}`,
      kind: "consumer",
      parent: queue.traceparent,
      spanId: attemptSpanId(request.id, request.attempt),
      links:
        request.attempt > 1 && request.traceparent
          ? [withSpanId(request.traceparent, attemptSpanId(request.id, request.attempt - 1))]
          : [],
      attributes: {
        ...messaging,
        [ATTR_MESSAGING_OPERATION_TYPE]: "process",
        [ATTR_MESSAGING_OPERATION_NAME]: "process",
        [ATTR_RSD_POD]: this.pod,
        [ATTR_RSD_TERMINAL]: request.terminal,
        [ATTR_RSD_KIND]: request.kind,
        ...(request.tenant ? { [ATTR_RSD_TENANT]: request.tenant } : {}),
      },
    });
    try {
      const result = await this.inner.handle(new TracedRequest(request, span.traceparent));
      span.set(ATTR_RSD_OUTCOME, "ok");
      return result;
    } catch (error) {
      const outcome = request.signal.aborted
        ? "expired"
        : error instanceof UnrecoverableError
          ? "failed"
          : "error";
      span.set(ATTR_RSD_OUTCOME, outcome);
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** When this attempt entered the stream: a retry's entry id is its XADD time on Redis's clock. */
function queuedSince(request: HandlerRequest): number | undefined {
  if (request.attempt > 1 && request.entryId) {
    const at = Number(request.entryId.slice(0, request.entryId.indexOf("-")));
    if (Number.isFinite(at) && at > 0) return at;
  }
  return request.enqueuedAt;
}

/** The request as the handler sees it, with this attempt's span as its traceparent. */
class TracedRequest implements HandlerRequest {
  readonly id: string;
  readonly payload: string;
  readonly deadline: number;
  readonly attempt: number;
  readonly kind: HandlerRequest["kind"];
  readonly retrySafe: boolean;

  constructor(
    private readonly inner: HandlerRequest,
    readonly traceparent: string,
  ) {
    this.id = inner.id;
    this.payload = inner.payload;
    this.deadline = inner.deadline;
    this.attempt = inner.attempt;
    this.kind = inner.kind;
    this.retrySafe = inner.retrySafe;
  }

  get signal(): AbortSignal {
    return this.inner.signal;
  }
}
