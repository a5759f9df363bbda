/**
 * The gateway's view of tracing: spans named by W3C traceparent strings, so the code that makes
 * spans needs neither the OpenTelemetry types nor a context manager (contexts are passed
 * explicitly as traceparents; nothing relies on AsyncLocalStorage). The implementation over the
 * SDK is sdk.ts, loaded only when tracing is on.
 */
export type SpanKindName = "server" | "client" | "producer" | "consumer" | "internal";
export type AttributeValue = string | number | boolean;

export interface SpanStart {
  name: string;
  kind: SpanKindName;
  /** The parent as a traceparent; a new trace when absent or invalid. */
  parent?: string | undefined;
  /** Epoch ms, when the span began before it is created (the queue wait). */
  startTime?: number;
  attributes?: Record<string, AttributeValue | undefined>;
  /** Spans this one follows from (e.g. the earlier attempt), as traceparents. */
  links?: string[];
  /**
   * A span id chosen by the caller (16 hex digits), so a later attempt can link to this one
   * without it being written anywhere (attemptSpanId).
   */
  spanId?: string;
}

export interface SpanHandle {
  /** `00-<trace>-<span>-<flags>` of this span: the parent to pass on. */
  readonly traceparent: string;
  /** False when the sampler dropped it: setting attributes is then wasted work. */
  readonly recording: boolean;
  set(key: string, value: AttributeValue | undefined): void;
  /**
   * Marks the span failed. `cause` is the `error.type` itself (e.g. a status code) or what was
   * thrown (its name becomes `error.type`, its message the status description).
   */
  fail(cause: unknown): void;
  end(endTime?: number): void;
}

export interface Tracing {
  /**
   * The sampler is parent-based: a span whose parent was not sampled is not recorded either, so a
   * caller may skip it (and its attributes) altogether.
   */
  readonly followsParent: boolean;
  startSpan(start: SpanStart): SpanHandle;
  /** Exports what is queued, waiting at most `timeoutMs`; spans ended later are dropped. */
  shutdown(timeoutMs: number): Promise<void>;
}
