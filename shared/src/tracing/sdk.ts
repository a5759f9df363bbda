import { DiagLogLevel, diag, ROOT_CONTEXT, SpanKind, TraceFlags, trace } from "@opentelemetry/api";
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
import type { TracingConfig } from "./config.ts";
import { preciseNow, RecordedSpan, SpanBatch } from "./span-batch.ts";
import type { SpanHandle, SpanKindName, SpanStart, Tracing } from "./types.ts";

const kinds: Record<SpanKindName, SpanKind> = {
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
  internal: SpanKind.INTERNAL,
};

/**
 * Bounds of what tracing may hold in memory: at most `maxQueueSize` ended spans wait to be made
 * (span-batch.ts) and as many again wait for export (more are dropped, never queued), each with
 * bounded attributes, links and value lengths.
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
 * The SDK's random ids, except for a span the batch makes (span-batch.ts): it was given its ids
 * when recorded (a random one, or SpanStart.spanId). The SDK asks its IdGenerator for them
 * synchronously inside startSpan, so a one-shot slot set just before the call is taken by exactly
 * that span.
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

/** A span the sampler dropped: only its traceparent (sampled flag off) goes on. */
class DroppedSpan implements SpanHandle {
  readonly recording = false;
  constructor(readonly traceparent: string) {}
  set(): void {}
  fail(): void {}
  end(): void {}
}

/**
 * The SDK reports failed exports (a collector away) and dropped spans (queue full) through its
 * global error handler and `diag`; both go to `warn`, at most one line every 30 s (with how many
 * were left out), so a collector that is down is visible without flooding the log.
 */
function reportProblems(
  warn: (message: string, fields: Record<string, unknown>) => void,
): (problem: unknown) => void {
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
  return report;
}

export async function createTracing(
  config: TracingConfig,
  warn: (message: string, fields: Record<string, unknown>) => void = () => {},
): Promise<Tracing> {
  const report = reportProblems(warn);
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
  const batch = new SpanBatch({
    maker: {
      tracer,
      withIds(chosen, make) {
        ids.chosen = chosen.spanId;
        ids.chosenTraceId = chosen.traceId;
        try {
          return make();
        } finally {
          ids.chosen = undefined;
          ids.chosenTraceId = undefined;
        }
      },
    },
    spanLimits: limits.spanLimits,
    maxPending: limits.maxQueueSize,
    flushAt: 64,
    flushAfterMs: 200,
    onDrop: report,
  });
  const followsParent = config.sampler.startsWith("parentbased_");

  return {
    followsParent,
    startSpan(start: SpanStart): SpanHandle {
      const parent = start.parent ? parseTraceParent(start.parent) : null;
      const spanId = start.spanId ?? ids.generateSpanId();
      // Below an unsampled parent a parent-based sampler records nothing: no need to ask it.
      if (parent && followsParent && (parent.traceFlags & TraceFlags.SAMPLED) === 0)
        return new DroppedSpan(`00-${parent.traceId}-${spanId}-00`);
      const traceId = parent ? parent.traceId : ids.generateTraceId();
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, { ...parent, isRemote: true })
        : ROOT_CONTEXT;
      const kind = kinds[start.kind];
      // The sampler's decision now, as the SDK would take it. The SDK asks it again when the batch
      // makes the span and gets the same answer: these samplers read only the parent and trace id.
      if (
        sampler.shouldSample(context, traceId, start.name, kind, {}, []).decision ===
        SamplingDecision.NOT_RECORD
      )
        return new DroppedSpan(`00-${traceId}-${spanId}-00`);
      return new RecordedSpan(batch, {
        name: start.name,
        kind,
        context,
        traceId,
        spanId,
        root: parent === null,
        startTime: start.startTime ?? preciseNow(),
        links: start.links ?? [],
        attributes: start.attributes,
      });
    },
    async shutdown(timeoutMs: number): Promise<void> {
      batch.flush();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      await Promise.race([provider.shutdown().catch(() => {}), deadline]);
      clearTimeout(timer);
    },
  };
}
