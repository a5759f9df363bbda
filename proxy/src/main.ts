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
const worker = createWorker(config, logger);
const server = Bun.serve({ port: config.port, fetch: (request) => worker.app.fetch(request) });
worker.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal, busy: worker.pool.busyCount });
  await worker.stop(config.shutdownGraceMs);
  await server.stop(true);
  logger.info("stopped");
  Logger.flush();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
