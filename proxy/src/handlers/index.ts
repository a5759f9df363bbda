import type { ProxyConfig } from "@rsd/shared";
import type { Handler } from "./handler.ts";
import { SimulateHandler } from "./simulate.ts";

/**
 * Handlers by HANDLER name. Adding a backend means one file implementing `Handler` and one line
 * here (see docs/architecture.md, "Writing a handler").
 */
export function createHandler(config: ProxyConfig): Handler {
  switch (config.handler) {
    case "simulate":
      return new SimulateHandler(config.processingMs, config.maxTimeoutMs);
    case "http":
      throw new Error("HANDLER=http is not available in this build");
  }
}
