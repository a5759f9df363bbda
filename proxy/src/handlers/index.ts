import type { Logger, ProxyConfig } from "@rsd/shared";
import type { BackendObserver } from "../protection/backend-signals.ts";
import type { Handler } from "./handler.ts";
import { HttpHandler, type Send } from "./http.ts";
import { SimulateHandler } from "./simulate.ts";

/**
 * Handlers by HANDLER name. Adding a backend means one file implementing `Handler` and one line
 * here (see docs/architecture.md, "Writing a handler").
 */
export interface HandlerHooks {
  /** With tracing on: how the http handler calls the upstream (a client span around fetch). */
  send?: Send | undefined;
  /** With a protection on: hears how every backend call went (protection/backend-signals.ts). */
  observer?: BackendObserver | undefined;
}

export function createHandler(config: ProxyConfig, logger: Logger, hooks: HandlerHooks = {}): Handler {
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
        ...(hooks.send ? { send: hooks.send } : {}),
        observer: hooks.observer,
        pauseOnRetryAfter: config.protection.backendPause,
      });
  }
}
