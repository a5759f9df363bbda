import { ConfigError, createLogger, Logger, loadProxyConfig, type ProxyConfig } from "@rsd/shared";
import { createWorker } from "./worker.ts";

function loadConfigOrExit(): ProxyConfig {
  try {
    return loadProxyConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`proxy: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, "proxy", config.podName);
// Tracing's modules (and the OpenTelemetry SDK) are imported only when it is on: off costs nothing.
const tracing = config.tracing
  ? await (await import("./tracing/index.ts")).startProxyTracing(config.tracing, logger)
  : undefined;
const worker = createWorker(config, logger, tracing);
const server = Bun.serve({ port: config.port, fetch: (request) => worker.app.fetch(request) });
worker.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal, busy: worker.pool.busyCount });
  await worker.stop(config.shutdownGraceMs);
  await server.stop(true);
  // The last spans go out within a bounded wait; a collector that is away does not hold the exit.
  await tracing?.shutdown(Math.min(5000, config.shutdownGraceMs + 1000));
  logger.info("stopped");
  Logger.flush();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
