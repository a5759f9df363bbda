import {
  type Attributes,
  DiagLogLevel,
  diag,
  type Link,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { parseTraceParent, setGlobalErrorHandler } from "@opentelemetry/core";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  type IdGenerator,
  ParentBasedSampler,
  RandomIdGenerator,
  type Sampler,
  SamplingDecision,
  type SpanExporter,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { ATTR_ERROR_TYPE } from "./attributes.ts";
import type { TracingConfig } from "./config.ts";
import type { AttributeValue, SpanHandle, SpanKindName, SpanStart, Tracing } from "./types.ts";

const kinds: Record<SpanKindName, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

/**
 * Bounds of what tracing may hold in memory: at most `maxQueueSize` ended spans wait for export
 * (more are dropped, never queued), each with bounded attributes, links and value lengths.
 */
const limits = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  exportTimeoutMillis: 10_000,
  spanLimits: {
    attributeCountLimit: 32,
    attributeValueLengthLimit: 512,
    linkCountLimit: 8,
    eventCountLimit: 8,
  },
};

/**
 * The SDK's random ids, except for a span whose id the caller chose (SpanStart.spanId): the SDK
 * asks its IdGenerator for the span id synchronously inside startSpan, so a one-shot slot set just
 * before the call is taken by exactly that span.
 */
class ChosenIdGenerator implements IdGenerator {
  chosen: string | undefined;
  /** The same one-shot slot for the trace id of a root span (the sampler has already seen it). */
  chosenTraceId: string | undefined;
  private readonly random = new RandomIdGenerator();

  generateTraceId(): string {
    const chosen = this.chosenTraceId;
    if (chosen === undefined) return this.random.generateTraceId();
    this.chosenTraceId = undefined;
    return chosen;
  }

  generateSpanId(): string {
    const chosen = this.chosen;
    if (chosen === undefined) return this.random.generateSpanId();
    this.chosen = undefined;
    return chosen;
  }
}

function samplerFor(config: TracingConfig): Sampler {
  const ratio = new TraceIdRatioBasedSampler(config.samplerRatio);
  switch (config.sampler) {
    case "always_on":
      return new AlwaysOnSampler();
    case "always_off":
      return new AlwaysOffSampler();
    case "traceidratio":
      return ratio;
    case "parentbased_always_off":
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case "parentbased_traceidratio":
      return new ParentBasedSampler({ root: ratio });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The SDK's own OTLP/HTTP exporter for the protocol; only that one is loaded. */
async function exporterFor(config: TracingConfig): Promise<SpanExporter> {
  const url = `${config.endpoint}/v1/traces`;
  if (config.protocol === "http/json") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter({ url }) as unknown as SpanExporter;
  }
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter({ url });
}

export function traceparentOf(context: SpanContext): string {
  const sampled = (context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return `00-${context.traceId}-${context.spanId}-${sampled ? "01" : "00"}`;
}

/** A span the sampler dropped: only its traceparent (sampled flag off) goes on. */
class DroppedSpan implements SpanHandle {
  readonly recording = false;
  constructor(readonly traceparent: string) {}
  set(): void {}
  fail(): void {}
  end(): void {}
}

class SdkSpan implements SpanHandle {
  readonly traceparent: string;
  readonly recording: boolean;

  constructor(private readonly span: Span) {
    this.traceparent = traceparentOf(span.spanContext());
    this.recording = span.isRecording();
  }

  set(key: string, value: AttributeValue | undefined): void {
    if (value !== undefined) this.span.setAttribute(key, value);
  }

  fail(cause: unknown): void {
    const thrown = typeof cause !== "string";
    this.span.setAttribute(ATTR_ERROR_TYPE, thrown ? (cause instanceof Error ? cause.name : "Error") : cause);
    const message = thrown && cause instanceof Error ? cause.message : undefined;
    this.span.setStatus({ code: SpanStatusCode.ERROR, ...(message ? { message } : {}) });
  }

  end(endTime?: number): void {
    this.span.end(endTime);
  }
}

/**
 * The SDK reports failed exports (a collector away) and dropped spans (queue full) through its
 * global error handler and `diag`; both go to `warn`, at most one line every 30 s (with how many
 * were left out), so a collector that is down is visible without flooding the log.
 */
function reportProblems(warn: (message: string, fields: Record<string, unknown>) => void): void {
  let lastAt = 0;
  let suppressed = 0;
  const report = (problem: unknown) => {
    const now = Date.now();
    if (now - lastAt < 30_000) {
      suppressed++;
      return;
    }
    const message = problem instanceof Error ? problem.message : String(problem);
    warn("tracing: spans not exported", { problem: message.slice(0, 300), suppressed });
    lastAt = now;
    suppressed = 0;
  };
  setGlobalErrorHandler(report);
  const ignore = () => {};
  diag.setLogger(
    { error: report, warn: report, info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

export async function createTracing(
  config: TracingConfig,
  warn: (message: string, fields: Record<string, unknown>) => void = () => {},
): Promise<Tracing> {
  reportProblems(warn);
  const ids = new ChosenIdGenerator();
  const sampler = samplerFor(config);
  const provider = new TracerProvider({
    // The SDK's telemetry.sdk.* attributes, then OTEL_RESOURCE_ATTRIBUTES; OTEL_SERVICE_NAME wins.
    resource: defaultResource().merge(
      resourceFromAttributes({
        "service.instance.id": config.instanceId,
        ...config.resourceAttributes,
        "service.name": config.serviceName,
      }),
    ),
    sampler,
    idGenerator: ids,
    spanLimits: limits.spanLimits,
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: await exporterFor(config),
        ...limits,
        scheduledDelayMillis: config.scheduleDelayMs,
      }),
    ],
  });
  const tracer = provider.getTracer("redis-stream-demo");
  const followsParent = config.sampler.startsWith("parentbased_");
  const dropped = (traceId: string) => new DroppedSpan(`00-${traceId}-${ids.generateSpanId()}-00`);

  return {
    followsParent,
    startSpan(start: SpanStart): SpanHandle {
      const parent = start.parent ? parseTraceParent(start.parent) : null;
      // What the sampler drops (99% at a 1% ratio) skips the SDK's span objects: the same
      // decision, by the same sampler, and the traceparent the SDK would give it.
      if (start.spanId === undefined) {
        if (parent) {
          if (followsParent && (parent.traceFlags & TraceFlags.SAMPLED) === 0) return dropped(parent.traceId);
        } else {
          const traceId = ids.generateTraceId();
          const kind = kinds[start.kind];
          if (
            sampler.shouldSample(ROOT_CONTEXT, traceId, start.name, kind, {}, []).decision ===
            SamplingDecision.NOT_RECORD
          )
            return dropped(traceId);
          ids.chosenTraceId = traceId;
        }
      }
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true })
        : ROOT_CONTEXT;
      const links: Link[] = [];
      for (const link of start.links ?? []) {
        const linked = parseTraceParent(link);
        if (linked) links.push({ context: linked });
      }
      ids.chosen = start.spanId;
      try {
        const span = tracer.startSpan(
          start.name,
          {
            kind: kinds[start.kind],
            attributes: start.attributes as Attributes | undefined,
            links,
            ...(start.startTime !== undefined ? { startTime: start.startTime } : {}),
          },
          context,
        );
        return new SdkSpan(span);
      } finally {
        ids.chosen = undefined;
        ids.chosenTraceId = undefined;
      }
    },
    async shutdown(timeoutMs: number): Promise<void> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([provider.shutdown().catch(() => {}), deadline]);
      clearTimeout(timer);
    },
  };
}
