import { readFileSync } from "node:fs";
import Redis, { Cluster } from "ioredis";
import type { CommonConfig } from "./config.ts";
import { redactUrl } from "./config-parse.ts";
import type { Logger } from "./logger.ts";

/**
 * The two kinds of connection the services use:
 * - `commands`: shared by all request handlers, auto-pipelined so concurrent commands of one
 *   event-loop turn leave in one write;
 * - `blocking`: one per blocking reader (XREAD / XREADGROUP BLOCK), never shared, because a
 *   blocked connection holds up every command queued behind it.
 */
export type ConnectionRole = "commands" | "blocking";

export interface RedisConnectionOptions {
  url: string;
  /** CA certificate file for rediss:// (otherwise the system's CAs are trusted). */
  tlsCaFile?: string | undefined;
  /** Redis Cluster seed nodes; credentials and TLS still come from `url`. */
  clusterNodes?: { host: string; port: number }[];
  role: ConnectionRole;
  /** CLIENT SETNAME, visible in CLIENT LIST: `<service>:<pod>:<purpose>`. */
  name: string;
  logger: Logger;
}

/** Reconnect quickly at first, then every 2 s at most, with jitter so a fleet does not stampede. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

export function createRedis({
  url,
  tlsCaFile,
  clusterNodes = [],
  role,
  name,
  logger,
}: RedisConnectionOptions): Redis {
  const tls = url.startsWith("rediss:") ? { tls: tlsCaFile ? { ca: readFileSync(tlsCaFile) } : {} } : {};
  const options = {
    connectionName: name,
    // CLIENT SETINFO is refused by least-privilege ACL users on some Redis versions; we need none of it.
    disableClientInfo: true,
    // While disconnected every command fails at once: the ingress answers 503 instead of letting
    // an offline queue grow without bound, and loops back off and retry on their own.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    // A hung server must not hang requests: plain commands time out, blocking ones get a grace period.
    commandTimeout: role === "commands" ? 2000 : undefined,
    blockingTimeout: role === "blocking" ? 30_000 : undefined,
    blockingTimeoutGrace: 2000,
  };
  const redis =
    clusterNodes.length > 0
      ? createCluster(url, clusterNodes, { ...options, ...tls }, role)
      : new Redis(url, {
          ...options,
          ...tls,
          enableAutoPipelining: role === "commands",
          retryStrategy: reconnectDelay,
          lazyConnect: false,
        });
  const log = logger.child({ connection: name });
  let healthy = false;
  redis.on("ready", () => {
    healthy = true;
    log.info("redis connected", { url: redactUrl(url) });
  });
  redis.on("error", (error: Error) => {
    // ioredis emits an error per failed reconnect attempt; log the transition, not every attempt.
    if (healthy) log.warn("redis connection lost", { error });
    else log.debug("redis connection error", { error });
    healthy = false;
  });
  redis.on("end", () => log.debug("redis connection closed"));
  return redis;
}

/** A connection configured from the services' common configuration (URL, TLS CA, cluster seeds). */
export function connectRedis(
  config: Pick<CommonConfig, "redisUrl" | "redisTlsCaFile" | "redisClusterNodes">,
  role: ConnectionRole,
  name: string,
  logger: Logger,
): Redis {
  return createRedis({
    url: config.redisUrl,
    tlsCaFile: config.redisTlsCaFile,
    clusterNodes: config.redisClusterNodes,
    role,
    name,
    logger,
  });
}

/**
 * A Redis Cluster client behind the same `Redis` type: the services only use commands on one key
 * (or one slot) at a time, which the Cluster client routes, so the rest of the code does not care.
 */
function createCluster(
  url: string,
  nodes: { host: string; port: number }[],
  redisOptions: Record<string, unknown>,
  role: ConnectionRole,
): Redis {
  const parsed = new URL(url);
  const cluster = new Cluster(nodes, {
    redisOptions: {
      ...redisOptions,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    },
    enableAutoPipelining: role === "commands",
    enableOfflineQueue: false,
    clusterRetryStrategy: reconnectDelay,
    // A master that died: find its replacement (or its return) quickly, never wait without bound.
    retryDelayOnClusterDown: 100,
    retryDelayOnFailover: 100,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    slotsRefreshInterval: 5000,
  });
  return cluster as unknown as Redis;
}

export function isReady(redis: Redis): boolean {
  return redis.status === "ready";
}

/** Resolves when the connection is ready, or false when `signal` aborts or `timeoutMs` passes first. */
export async function waitUntilReady(
  redis: Redis,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<boolean> {
  if (isReady(redis)) return true;
  return await new Promise<boolean>((resolve) => {
    const finish = (ready: boolean) => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      signal?.removeEventListener("abort", onAbort);
      resolve(ready);
    };
    const onReady = () => finish(true);
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(isReady(redis)), timeoutMs);
    redis.on("ready", onReady);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Redis error replies are matched by their code prefix (e.g. NOGROUP, BUSYGROUP). */
export function isRedisError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}
