import {
  type Attributes,
  type Context,
  type Link,
  type SpanKind,
  SpanStatusCode,
  type Tracer,
} from "@opentelemetry/api";
import { parseTraceParent } from "@opentelemetry/core";
import { ATTR_ERROR_TYPE } from "./attributes.ts";
import type { AttributeValue, SpanHandle } from "./types.ts";

/**
 * Sampled spans are recorded as plain data on the request path and made into SDK spans later, in
 * batches (SpanBatch.flush).
 *
 * Why: at a low sampling ratio a sampled span is rare, and the SDK's span code (tracer, span
 * object, attribute checks, span processor) is then cold every time it runs. Measured in one
 * process, a span cost about 4 µs when every request made one and 20 to 80 µs when one request in
 * 100 or 1,000 did. Made 64 at a time, the same spans are warm again. It also keeps the SDK off
 * the latency of the request that happened to be sampled, though not off the event loop: a flush
 * runs on this thread, and the one that hands the SDK's processor its 512th span also serializes
 * that export batch (10 to 26 ms measured under saturation; docs/architecture.md, "Tracing on
 * Bun", says why it stays here).
 *
 * The SDK still makes every span, with the ids, times, attributes, links and status recorded
 * here (ChosenIdGenerator hands it the ids), and its BatchSpanProcessor and OTLP exporter send
 * them: nothing below builds an exported span by hand.
 */

/** Epoch milliseconds with the sub-millisecond part: the clock the SDK uses for its own spans. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** What the batch needs from the SDK: a tracer, and a way to make it use a chosen span id. */
export interface SpanMaker {
  readonly tracer: Tracer;
  /** Runs `make` with the next span (and, for a root span, trace) id given by the caller. */
  withIds<T>(ids: { traceId?: string; spanId: string }, make: () => T): T;
}

export interface SpanBatchOptions {
  maker: SpanMaker;
  /**
   * The SDK's own limits (sdk.ts), applied as a span is recorded so that a waiting span holds no
   * more than the SDK would keep: attributes beyond the count are dropped, longer values cut.
   */
  spanLimits: { attributeCountLimit: number; attributeValueLengthLimit: number };
  /** Ended spans waiting to be made; more are dropped, never queued. */
  maxPending: number;
  /** Pending spans that make a batch: the flush is then scheduled at once. */
  flushAt: number;
  /** The longest an ended span waits when fewer than `flushAt` are pending. */
  flushAfterMs: number;
  /** Called (rate-limited by the caller) when spans are dropped because `maxPending` was reached. */
  onDrop: (problem: string) => void;
}

/** What a sampled span is recorded with when it starts (sdk.ts has decided it is sampled). */
export interface RecordedSpanStart {
  name: string;
  kind: SpanKind;
  /** The parent's context (ROOT_CONTEXT for a new trace). */
  context: Context;
  traceId: string;
  spanId: string;
  /** True for a span that starts a trace: the SDK is then handed its trace id too. */
  root: boolean;
  /** Epoch ms, with the sub-millisecond part. */
  startTime: number;
  /** Spans this one follows from, as traceparents. */
  links: readonly string[];
  attributes?: Record<string, AttributeValue | undefined> | undefined;
}

/** A sampled span being recorded. Nothing of the SDK runs until the batch makes it. */
export class RecordedSpan implements SpanHandle {
  readonly recording = true;
  readonly traceparent: string;
  readonly attributes: Attributes = {};
  private attributeCount = 0;
  endTime = 0;
  /** Set by fail(): the status description (may be empty). */
  failure: string | undefined;

  constructor(
    private readonly batch: SpanBatch,
    readonly start: RecordedSpanStart,
  ) {
    this.traceparent = `00-${start.traceId}-${start.spanId}-01`;
    const { attributes } = start;
    if (attributes) for (const key in attributes) this.set(key, attributes[key]);
  }

  set(key: string, value: AttributeValue | undefined): void {
    if (value === undefined || this.endTime !== 0) return;
    const { attributeCountLimit, attributeValueLengthLimit } = this.batch.spanLimits;
    if (!(key in this.attributes)) {
      if (this.attributeCount >= attributeCountLimit) return;
      this.attributeCount++;
    }
    this.attributes[key] =
      typeof value === "string" && value.length > attributeValueLengthLimit
        ? value.slice(0, attributeValueLengthLimit)
        : value;
  }

  fail(cause: unknown): void {
    if (this.endTime !== 0) return;
    const thrown = typeof cause !== "string";
    this.set(ATTR_ERROR_TYPE, thrown ? (cause instanceof Error ? cause.name : "Error") : cause);
    const message = thrown && cause instanceof Error ? cause.message : "";
    this.failure = message.slice(0, this.batch.spanLimits.attributeValueLengthLimit);
  }

  end(endTime?: number): void {
    if (this.endTime !== 0) return;
    this.endTime = endTime ?? preciseNow();
    this.batch.add(this);
  }
}

/** Ended sampled spans, made into SDK spans a batch at a time, off the request path. */
export class SpanBatch {
  private pending: RecordedSpan[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private immediate: ReturnType<typeof setImmediate> | undefined;

  constructor(private readonly options: SpanBatchOptions) {}

  get spanLimits(): SpanBatchOptions["spanLimits"] {
    return this.options.spanLimits;
  }

  add(span: RecordedSpan): void {
    const { maxPending, flushAt, flushAfterMs } = this.options;
    if (this.pending.length >= maxPending) {
      this.options.onDrop(`${maxPending} spans already waiting to be made; span dropped`);
      return;
    }
    this.pending.push(span);
    if (this.pending.length >= flushAt) {
      this.immediate ??= setImmediate(() => this.flush());
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), flushAfterMs);
      this.timer.unref?.();
    }
  }

  /** Makes every pending span now (also before a shutdown, so none is left behind). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    const spans = this.pending;
    this.pending = [];
    for (const span of spans) this.make(span);
  }

  private make(recorded: RecordedSpan): void {
    const { start } = recorded;
    const links: Link[] = [];
    for (const link of start.links) {
      const context = parseTraceParent(link);
      if (context) links.push({ context });
    }
    const ids = start.root ? { traceId: start.traceId, spanId: start.spanId } : { spanId: start.spanId };
    const span = this.options.maker.withIds(ids, () =>
      this.options.maker.tracer.startSpan(
        start.name,
        { kind: start.kind, attributes: recorded.attributes, links, startTime: start.startTime },
        start.context,
      ),
    );
    if (recorded.failure !== undefined)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        ...(recorded.failure ? { message: recorded.failure } : {}),
      });
    span.end(recorded.endTime);
  }
}
