import { ConfigError, createLogger, type IngressConfig, Logger, loadIngressConfig } from "@rsd/shared";
import packageJson from "../package.json" with { type: "json" };
import { createGateway } from "./gateway.ts";
import { instrument } from "./http/instrumented-server.ts";
import { missingHost, pathStart } from "./http/request-target.ts";

function loadConfigOrExit(): IngressConfig {
  try {
    return loadIngressConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`ingress: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel, "ingress", config.podName);
// Tracing's modules (and the OpenTelemetry SDK) are imported only when it is on: off costs nothing.
const tracing = config.tracing
  ? await (await import("./tracing/server-spans.ts")).startIngressTracing(config.tracing, logger)
  : undefined;
const gateway = createGateway(config, logger, packageJson.version, tracing?.traceparentOf);
const instrumentation = { metrics: gateway.metrics, connections: gateway.connections };
const server = Bun.serve({
  port: config.port,
  // Slow or idle clients lose their connection after this; a request waiting for its reply is
  // exempt until its deadline (http/connection-timeouts.ts).
  idleTimeout: config.idleTimeoutS,
  // Bun's own hard cap stays far above MAX_BODY_BYTES: the app refuses oversized bodies itself
  // (from Content-Length, or while streaming) with the contract's JSON 413, and routes that take
  // no body never read it.
  maxRequestBodySize: 128 * 1024 * 1024,
  // The hot route goes straight to its handler through Bun's native router; everything else, and
  // what that exact-path router leaves over (a trailing slash, other methods), through Elysia.
  routes: {
    "/api/requests": {
      POST: instrument(tracing?.submitRoute(gateway.submitRoute) ?? gateway.submitRoute, instrumentation),
    },
  },
  fetch: instrument(
    tracing?.appRoutes((request) => gateway.app.fetch(request)) ?? ((request) => gateway.app.fetch(request)),
    instrumentation,
  ),
});
gateway.connections.attach(server);
const opsServer = gateway.opsApp
  ? Bun.serve({
      port: config.metricsPort,
      idleTimeout: config.idleTimeoutS,
      fetch: (request) => (pathStart(request.url) < 0 ? missingHost() : gateway.opsApp!.fetch(request)),
    })
  : undefined;
gateway.start();

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal, inflight: gateway.pending.size });
  const closed = server.stop(false); // no new connections; in-flight requests finish
  await gateway.drain(config.shutdownGraceMs);
  await closed;
  await gateway.stop();
  await opsServer?.stop(true);
  // The last spans go out within a bounded wait; a collector that is away does not hold the exit.
  await tracing?.shutdown(Math.min(5000, config.shutdownGraceMs + 1000));
  logger.info("stopped");
  Logger.flush();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
