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
 * the latency of the request that happened to be sampled.
 *
 * The SDK still makes every span, with the ids, times, attributes, links and status recorded
 * here (ChosenIdGenerator hands it the ids), and its BatchSpanProcessor and OTLP exporter send
 * them: nothing below builds an exported span by hand.
 */

/** The SDK's limit on an attribute value's length, applied as the value is recorded. */
export const ATTRIBUTE_VALUE_MAX = 512;
/** How many attributes a span records; later ones are dropped (the SDK's limit too). */
export const ATTRIBUTE_COUNT_MAX = 32;

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
  /** Ended spans waiting to be made; more are dropped, never queued (counted in `dropped`). */
  maxPending: number;
  /** Pending spans that make a batch: the flush is then scheduled at once. */
  flushAt: number;
  /** The longest an ended span waits when fewer than `flushAt` are pending. */
  flushAfterMs: number;
  /** Called (rate-limited by the caller) when spans are dropped because `maxPending` was reached. */
  onDrop: (problem: string) => void;
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
    readonly name: string,
    readonly kind: SpanKind,
    /** The parent's context (ROOT_CONTEXT for a new trace). */
    readonly context: Context,
    readonly traceId: string,
    readonly spanId: string,
    /** True for a span that starts a trace: the SDK is then handed its trace id too. */
    readonly root: boolean,
    readonly startTime: number,
    readonly links: readonly string[],
    attributes: Record<string, AttributeValue | undefined> | undefined,
  ) {
    this.traceparent = `00-${traceId}-${spanId}-01`;
    if (attributes) for (const key in attributes) this.set(key, attributes[key]);
  }

  set(key: string, value: AttributeValue | undefined): void {
    if (value === undefined || this.endTime !== 0) return;
    if (!(key in this.attributes)) {
      if (this.attributeCount >= ATTRIBUTE_COUNT_MAX) return;
      this.attributeCount++;
    }
    this.attributes[key] =
      typeof value === "string" && value.length > ATTRIBUTE_VALUE_MAX
        ? value.slice(0, ATTRIBUTE_VALUE_MAX)
        : value;
  }

  fail(cause: unknown): void {
    const thrown = typeof cause !== "string";
    this.set(ATTR_ERROR_TYPE, thrown ? (cause instanceof Error ? cause.name : "Error") : cause);
    const message = thrown && cause instanceof Error ? cause.message : "";
    this.failure = message.slice(0, ATTRIBUTE_VALUE_MAX);
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
  /** Spans dropped because `maxPending` were already waiting. */
  dropped = 0;

  constructor(private readonly options: SpanBatchOptions) {}

  get size(): number {
    return this.pending.length;
  }

  add(span: RecordedSpan): void {
    const { maxPending, flushAt, flushAfterMs } = this.options;
    if (this.pending.length >= maxPending) {
      this.dropped++;
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
    const links: Link[] = [];
    for (const link of recorded.links) {
      const context = parseTraceParent(link);
      if (context) links.push({ context });
    }
    const ids = recorded.root
      ? { traceId: recorded.traceId, spanId: recorded.spanId }
      : { spanId: recorded.spanId };
    const span = this.options.maker.withIds(ids, () =>
      this.options.maker.tracer.startSpan(
        recorded.name,
        { kind: recorded.kind, attributes: recorded.attributes, links, startTime: recorded.startTime },
        recorded.context,
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
