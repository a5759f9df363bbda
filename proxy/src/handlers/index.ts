import type { Logger, ProxyConfig } from "@rsd/shared";
import type { BackendObserver } from "../protection/backend-signals.ts";
import type { Handler } from "./handler.ts";
import { HttpHandler } from "./http.ts";
import { SimulateHandler } from "./simulate.ts";

/**
 * Handlers by HANDLER name. Adding a backend means one file implementing `Handler` and one line
 * here (see docs/architecture.md, "Writing a handler").
 */
export function createHandler(config: ProxyConfig, logger: Logger, observer?: BackendObserver): Handler {
  switch (config.handler) {
    case "simulate":
      return new SimulateHandler(config.processingMs, config.maxTimeoutMs);
    case "http":
      return new HttpHandler({
        // loadProxyConfig requires UPSTREAM_URL whenever HANDLER=http.
        upstreamUrl: config.upstreamUrl as string,
        upstreamHeaders: config.upstreamHeaders,
        maxDeliveries: config.maxDeliveries,
        maxResponseBytes: config.maxUpstreamResponseBytes,
        logger,
        observer,
        pauseOnRetryAfter: config.protection.backendPause,
      });
  }
}
