import {
  DeadLetters,
  FleetRegistry,
  type IngressConfig,
  type Logger,
  QueueAge,
  type RedisClient,
  type StreamKeys,
  type StreamStats,
} from "@rsd/shared";
import type { ConnectionTimeouts } from "../http/connection-timeouts.ts";
import type { IngressMetrics } from "../metrics.ts";
import type { BreakerWatch } from "../shedding/breaker-watch.ts";
import type { LaneRouter } from "../tenants/lane-router.ts";
import { AdminAccess } from "./access.ts";
import { ConsoleSnapshots } from "./console-snapshot.ts";
import { EventHub } from "./event-hub.ts";
import { adminController } from "./index.ts";

export interface ConsoleOptions {
  config: IngressConfig;
  ingressId: string;
  /** The ingress's background connection: the console's reads are a handful per tick, never per request. */
  redis: RedisClient;
  keys: StreamKeys;
  stats: StreamStats;
  metrics: IngressMetrics;
  connections: ConnectionTimeouts;
  logger: Logger;
  /** BREAKER=on: the breaker state the ingress already polls. */
  breaker?: BreakerWatch | undefined;
  /** TENANT_LANES=on: the per-tenant counts the ingress already polls for its quotas. */
  lanes?: LaneRouter | undefined;
}

/** The operator console's parts, put together: access, the event hub, the routes. */
export function createConsole(options: ConsoleOptions) {
  const { config, redis, keys, logger } = options;
  const access = new AdminAccess({
    adminKeys: config.adminKeys,
    clientKeyHashes: config.apiKeyHashes,
    sessionSecret: config.adminSessionSecret,
  });
  const deadLetters = new DeadLetters({ client: redis, keys, lanes: config.tenantLanes });
  const snapshots = new ConsoleSnapshots({
    ingressId: options.ingressId,
    redis,
    fleet: new FleetRegistry({ client: redis, keys }),
    stats: options.stats,
    queueAge: new QueueAge({ client: redis, keys }),
    deadLetters,
    metrics: options.metrics,
    intervalMs: config.adminEventIntervalMs,
    breaker: options.breaker,
    lanes: options.lanes?.polling ? options.lanes : undefined,
  });
  const hub = new EventHub({
    maxClients: config.adminMaxEventClients,
    maxBufferedBytes: config.adminEventBufferBytes,
    intervalMs: config.adminEventIntervalMs,
    snapshot: (clients) => snapshots.take(clients),
    history: () => ({ points: snapshots.rolling.series() }),
    logger,
  });
  const app = adminController({ access, hub, deadLetters, connections: options.connections, logger });
  return {
    app,
    hub,
    /** One line at start: whether the console is open, protected, or closed to everyone. */
    announce(): void {
      if (access.open)
        logger.warn(
          "console open: no API_KEYS or ADMIN_API_KEYS configured, /console and /api/admin need no key",
          {
            path: "/console",
          },
        );
      else if (config.adminKeys.length === 0)
        logger.info("console closed: API_KEYS is set but ADMIN_API_KEYS is not, so no key opens /console", {
          path: "/console",
        });
      else
        logger.info("console protected by ADMIN_API_KEYS", {
          path: "/console",
          adminKeys: config.adminKeys.map((key) => key.name),
        });
    },
  };
}
