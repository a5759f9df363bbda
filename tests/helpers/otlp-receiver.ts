// The OpenTelemetry project's generated protobufjs code for the OTLP protos (the last
// otlp-transformer release that ships it; see docs/architecture.md): no hand-written decoder.
import * as generated from "@opentelemetry/otlp-transformer/build/src/generated/root.js";
import type { Server } from "bun";

/** A span as it arrived, ids in hex, whichever OTLP/HTTP encoding carried it. */
export interface ReceivedSpan {
  service: string;
  /** The resource attributes of the process that sent it. */
  resource: Record<string, string | number | boolean>;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, string | number | boolean>;
  links: { traceId: string; spanId: string }[];
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

interface OtlpValue {
  stringValue?: string | null;
  intValue?: number | string | { toString(): string } | null;
  boolValue?: boolean | null;
  doubleValue?: number | null;
}
interface OtlpKeyValue {
  key: string;
  value?: OtlpValue | null;
}
type OtlpId = string | Uint8Array;
interface OtlpSpan {
  traceId: OtlpId;
  spanId: OtlpId;
  parentSpanId?: OtlpId | null;
  name: string;
  kind: number | string;
  startTimeUnixNano: unknown;
  endTimeUnixNano: unknown;
  attributes?: OtlpKeyValue[] | null;
  links?: { traceId: OtlpId; spanId: OtlpId }[] | null;
  status?: { code?: number | string | null } | null;
}
interface OtlpRequest {
  resourceSpans?: {
    resource?: { attributes?: OtlpKeyValue[] | null } | null;
    scopeSpans?: { spans?: OtlpSpan[] | null }[] | null;
  }[];
}

const root = ((generated as { default?: unknown }).default ?? generated) as {
  opentelemetry: {
    proto: {
      collector: {
        trace: { v1: { ExportTraceServiceRequest: { decode(bytes: Uint8Array): OtlpRequest } } };
      };
    };
  };
};
const ExportTraceServiceRequest = root.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;

/** Protobuf carries ids as bytes; OTLP/JSON as hex strings (its one departure from proto3 JSON). */
function hex(id: OtlpId | null | undefined): string {
  if (!id) return "";
  return typeof id === "string" ? id : Buffer.from(id).toString("hex");
}

function value(input: OtlpValue | null | undefined): string | number | boolean {
  if (!input) return "";
  if (input.stringValue !== undefined && input.stringValue !== null) return input.stringValue;
  if (input.boolValue !== undefined && input.boolValue !== null) return input.boolValue;
  if (input.intValue !== undefined && input.intValue !== null) return Number(String(input.intValue));
  return input.doubleValue ?? "";
}

function attributes(list: OtlpKeyValue[] | null | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((entry) => [entry.key, value(entry.value)]));
}

const nanosToMs = (nanos: unknown) => Number(BigInt(String(nanos)) / 1_000_000n);
const kindNumbers: Record<string, number> = {
  SPAN_KIND_INTERNAL: 1,
  SPAN_KIND_SERVER: 2,
  SPAN_KIND_CLIENT: 3,
  SPAN_KIND_PRODUCER: 4,
  SPAN_KIND_CONSUMER: 5,
};

function spansOf(request: OtlpRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributes(resourceSpans.resource?.attributes);
    const service = String(resource["service.name"] ?? "");
    for (const scope of resourceSpans.scopeSpans ?? [])
      for (const span of scope.spans ?? [])
        spans.push({
          service,
          resource,
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: hex(span.parentSpanId),
          name: span.name,
          kind: typeof span.kind === "number" ? span.kind : (kindNumbers[span.kind] ?? 0),
          startMs: nanosToMs(span.startTimeUnixNano),
          endMs: nanosToMs(span.endTimeUnixNano),
          attributes: attributes(span.attributes),
          links: (span.links ?? []).map((link) => ({ traceId: hex(link.traceId), spanId: hex(link.spanId) })),
          status: Number(span.status?.code ?? 0),
        });
  }
  return spans;
}

/**
 * An OTLP/HTTP trace receiver on a free port (Bun.serve): accepts `POST /v1/traces` in
 * `application/x-protobuf` or `application/json` and keeps the decoded spans (at most `maxSpans`).
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Export requests received, by content type. */
  readonly requests: string[] = [];
  private readonly server: Server<undefined>;

  constructor(private readonly maxSpans = 10_000) {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.receive(request) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  stop(): void {
    this.server.stop(true);
  }

  private async receive(request: Request): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/traces")
      return new Response("not found", { status: 404 });
    const type = request.headers.get("content-type") ?? "";
    const body = new Uint8Array(await request.arrayBuffer());
    this.requests.push(type);
    const decoded = type.includes("json")
      ? (JSON.parse(new TextDecoder().decode(body)) as OtlpRequest)
      : ExportTraceServiceRequest.decode(body);
    for (const span of spansOf(decoded)) if (this.spans.length < this.maxSpans) this.spans.push(span);
    return type.includes("json")
      ? Response.json({})
      : new Response(new Uint8Array(0), { headers: { "content-type": "application/x-protobuf" } });
  }
}
