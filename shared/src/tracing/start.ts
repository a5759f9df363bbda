import type { TracingConfig } from "./config.ts";
import type { Tracing } from "./types.ts";

/**
 * Loads the OpenTelemetry SDK and starts exporting, only when tracing is configured: with
 * OTEL_EXPORTER_OTLP_ENDPOINT unset this resolves to undefined and no SDK module is ever imported.
 */
export async function startTracing(config: TracingConfig | undefined): Promise<Tracing | undefined> {
  if (!config) return undefined;
  const { createTracing } = await import("./sdk.ts");
  return await createTracing(config);
}
