import type { Logger, TracingConfig } from "@rsd/shared";
import { startTracing, type Tracing } from "@rsd/shared/tracing";
import type { Handler } from "../handlers/handler.ts";
import type { Send } from "../handlers/http.ts";
import { TracedHandler } from "./attempt-spans.ts";
import { tracedSend } from "./client-spans.ts";

/** The proxy's tracing, imported by main.ts only when it is on (OTEL_EXPORTER_OTLP_ENDPOINT set). */
export class ProxyTracing {
  readonly send: Send;

  constructor(private readonly tracing: Tracing) {
    this.send = tracedSend(tracing);
  }

  wrap(handler: Handler, group: string, pod: string): Handler {
    return new TracedHandler(handler, this.tracing, group, pod);
  }

  shutdown(timeoutMs: number): Promise<void> {
    return this.tracing.shutdown(timeoutMs);
  }
}

export async function startProxyTracing(config: TracingConfig, logger: Logger): Promise<ProxyTracing> {
  return new ProxyTracing((await startTracing(config, (msg, fields) => logger.warn(msg, fields))) as Tracing);
}
