import type { TracingConfig } from "./config.ts";
import type { Tracing } from "./types.ts";

/**
 * Loads the OpenTelemetry SDK and starts exporting, only when tracing is configured: with
 * OTEL_EXPORTER_OTLP_ENDPOINT unset this resolves to undefined and no SDK module is ever imported.
 */
export async function startTracing(
  config: TracingConfig | undefined,
  /** Where export problems go (rate-limited): the service's logger. */
  warn?: (message: string, fields: Record<string, unknown>) => void,
): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { createTracing } = await import("./sdk.ts");
  return await createTracing(config, warn);
}
