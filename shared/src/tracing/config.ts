import { ConfigError, type Env, readEnum, readInt, readString, readUrl } from "../config-parse.ts";

/**
 * OpenTelemetry tracing, configured by the standard OTEL_* variables (docs/contract.md,
 * "Tracing"). Parsed here with the rest of the configuration, so a bad value stops the service at
 * start naming the variable; the SDK itself is loaded only when tracing is on (start.ts).
 */
export type OtlpProtocol = "http/protobuf" | "http/json";
export const otlpProtocols: readonly OtlpProtocol[] = ["http/protobuf", "http/json"];
export type SamplerName =
  | "always_on"
  | "always_off"
  | "traceidratio"
  | "parentbased_always_on"
  | "parentbased_always_off"
  | "parentbased_traceidratio";
export const samplerNames: readonly SamplerName[] = [
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
];

export interface TracingConfig {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  protocol: OtlpProtocol;
  serviceName: string;
  sampler: SamplerName;
  /** The ratio of the *traceidratio samplers, 0…1. */
  samplerRatio: number;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  resourceAttributes: Record<string, string>;
  /** OTEL_BSP_SCHEDULE_DELAY: ms between two exports of the batch span processor. */
  scheduleDelayMs: number;
  /** POD_NAME: the `service.instance.id` resource attribute, unless OTEL_RESOURCE_ATTRIBUTES sets one. */
  instanceId: string;
}

/** Undefined when OTEL_EXPORTER_OTLP_ENDPOINT is unset: tracing is off and the SDK is never loaded. */
export function readTracingConfig(
  env: Env,
  defaultServiceName: string,
  instanceId: string,
): TracingConfig | undefined {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()) return undefined;
  return {
    endpoint: readUrl(env, "OTEL_EXPORTER_OTLP_ENDPOINT", undefined, ["http:", "https:"]).replace(/\/+$/, ""),
    protocol: readEnum(env, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf", otlpProtocols),
    serviceName: readString(
      env,
      "OTEL_SERVICE_NAME",
      defaultServiceName,
      /^[\x21-\x7e]{1,128}$/,
      "1-128 printable ASCII characters without spaces",
    ),
    sampler: readEnum(env, "OTEL_TRACES_SAMPLER", "parentbased_always_on", samplerNames),
    samplerRatio: readRatio(env, "OTEL_TRACES_SAMPLER_ARG"),
    resourceAttributes: readResourceAttributes(env, "OTEL_RESOURCE_ATTRIBUTES"),
    // Each export costs a request to the collector: the specification's 5 s keeps that rare.
    scheduleDelayMs: readInt(env, "OTEL_BSP_SCHEDULE_DELAY", 5000, 100, 60_000),
    instanceId,
  };
}

function readRatio(env: Env, name: string): number {
  const value = env[name]?.trim();
  if (!value) return 1;
  const ratio = Number(value);
  if (!/^(0|1|0?\.\d+|1\.0*)$/.test(value) || !(ratio >= 0 && ratio <= 1))
    throw new ConfigError(name, value, "a number from 0 to 1, e.g. 0.01");
  return ratio;
}

/**
 * `key1=value1,key2=value2` (W3C Baggage syntax, values percent-encoded). The value is not echoed
 * on error: operators sometimes put tokens in resource attributes.
 */
function readResourceAttributes(env: Env, name: string): Record<string, string> {
  const value = env[name]?.trim();
  const attributes: Record<string, string> = {};
  if (!value) return attributes;
  for (const [index, pair] of value.split(",").entries()) {
    const at = pair.indexOf("=");
    const key = pair.slice(0, at).trim();
    let decoded: string;
    try {
      decoded = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      decoded = "\u0000";
    }
    if (at <= 0 || !/^[\x21-\x7e]{1,255}$/.test(key) || decoded.includes("\u0000") || decoded.length > 255)
      throw new ConfigError(
        name,
        "<hidden>",
        `comma-separated key=value pairs (values percent-encoded, at most 255 characters); pair ${index + 1} is not`,
      );
    attributes[key] = decoded;
  }
  return attributes;
}
