import { hostname } from "node:os";
import { type AdminKey, readAdminKeys, readAdminSessionSecret } from "./admin-keys.ts";
import { readApiKeys } from "./api-keys.ts";
import {
  type Env,
  readEnum,
  readHeaderMap,
  readHostList,
  readInt,
  readReadableFile,
  readString,
  readUrl,
} from "./config-parse.ts";
import { type ProtectionConfig, readBreakerSwitch, readProtection } from "./config-protection.ts";
import { defaultTenant } from "./protocol/tenant.ts";
import {
  type IngressTenantConfig,
  type ProxyTenantConfig,
  readIngressTenantConfig,
  readProxyTenantConfig,
} from "./tenant-config.ts";
import { readTracingConfig, type TracingConfig } from "./tracing/config.ts";

/** The configuration contract (docs/contract.md, "Environment variables"), parsed and validated once at start. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export const logLevels: readonly LogLevel[] = ["debug", "info", "warn", "error"];
export type HandlerName = "simulate" | "http";
export const handlerNames: readonly HandlerName[] = ["simulate", "http"];

export interface CommonConfig {
  redisUrl: string;
  /** PEM file of the CA that signed Redis's certificate, for rediss:// with a private CA. */
  redisTlsCaFile: string | undefined;
  /** Seed nodes of a Redis Cluster (host:port); empty = a single Redis at REDIS_URL. */
  redisClusterNodes: { host: string; port: number }[];
  /** Request streams the queue is split into (spread over the cluster's slots). */
  streamShards: number;
  streamPrefix: string;
  port: number;
  podName: string;
  logLevel: LogLevel;
  maxTimeoutMs: number;
  /** OpenTelemetry traces (OTEL_* variables); undefined = off, and the SDK is never loaded. */
  tracing: TracingConfig | undefined;
}

export interface IngressConfig extends CommonConfig, IngressTenantConfig {
  requestTimeoutMs: number;
  maxQueueDepth: number;
  maxBodyBytes: number;
  resultTtlS: number;
  shutdownGraceMs: number;
  /** SHA-256 digests of the accepted API keys; empty = no client authentication. */
  apiKeyHashes: Buffer[];
  /** The tenant each of apiKeyHashes names (same index); `default` for a plain key. */
  apiKeyTenants: string[];
  /** Serve /healthz, /readyz, /metrics on this port instead of PORT (undefined = on PORT). */
  metricsPort: number | undefined;
  /** Seconds an idle client connection is kept open. */
  idleTimeoutS: number;
  /** Requests in progress (body being read or reply awaited) one ingress takes at most. */
  maxInflight: number;
  /** Request-body bytes those may hold together. */
  maxInflightBytes: number;
  /** Shed new requests when Redis holds this share of its maxmemory (100 = off). */
  maxRedisMemoryPercent: number;
  /** Operator keys of /console and /api/admin (ADMIN_API_KEYS, ADMIN_API_KEYS_FILE). */
  adminKeys: AdminKey[];
  /** Signs the console's login cookie, shared by the replicas (ADMIN_SESSION_SECRET; unset: per process). */
  adminSessionSecret: string | undefined;
  /** Console event streams (GET /api/admin/events) open at once, at most. */
  adminMaxEventClients: number;
  /** Bytes queued for one event-stream client that does not read; beyond it the client is dropped. */
  adminEventBufferBytes: number;
  /** How often the console's snapshot is computed and sent. */
  adminEventIntervalMs: number;
  /** BREAKER=on: answer 503 while the fleet's breaker is open. */
  breaker: boolean;
  /** ADMISSION: shed on predicted wait too (predictive), or on MAX_QUEUE_DEPTH alone (depth). */
  admission: "predictive" | "depth";
}

export interface ProxyConfig extends CommonConfig, ProxyTenantConfig {
  terminals: number;
  handler: HandlerName;
  processingMs: number;
  upstreamUrl: string | undefined;
  /** Extra headers the proxy adds to every upstream request (e.g. auth); never logged. */
  upstreamHeaders: Record<string, string>;
  claimIdleMs: number;
  maxDeliveries: number;
  shutdownGraceMs: number;
  /** The most bytes of one upstream response a proxy reads (HANDLER=http); past it: 502, no retry. */
  maxUpstreamResponseBytes: number;
  /** Dead letters kept at most (approximately: MAXLEN ~). */
  deadLetterMaxCount: number;
  /** Dead letters older than this many seconds are removed. */
  deadLetterMaxAgeS: number;
  /** Adaptive terminals, rate limit, backend pauses, circuit breaker (config-protection.ts). */
  protection: ProtectionConfig;
}

const INT_MAX = Number.MAX_SAFE_INTEGER;
const MIB = 1024 * 1024;

function readCommon(env: Env, defaultPort: number): CommonConfig {
  return {
    redisUrl: readUrl(env, "REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]),
    redisTlsCaFile: readReadableFile(env, "REDIS_TLS_CA_FILE"),
    redisClusterNodes: readHostList(env, "REDIS_CLUSTER_NODES"),
    streamShards: readInt(env, "STREAM_SHARDS", 1, 1, 256),
    streamPrefix: readString(
      env,
      "STREAM_PREFIX",
      "rsd",
      /^[A-Za-z0-9._-]{1,64}$/,
      "1-64 letters, digits, - _ .",
    ),
    port: readInt(env, "PORT", defaultPort, 1, 65535),
    podName: readString(
      env,
      "POD_NAME",
      `${hostname()}-${process.pid}`,
      /^[A-Za-z0-9._-]{1,128}$/,
      "1-128 letters, digits, - _ .",
    ),
    logLevel: readEnum(env, "LOG_LEVEL", "info", logLevels),
    maxTimeoutMs: readInt(env, "MAX_TIMEOUT_MS", 300_000, 1, INT_MAX),
    tracing: undefined,
  };
}

export function loadIngressConfig(env: Env = process.env): IngressConfig {
  const common = readCommon(env, 3000);
  const maxBodyBytes = readInt(env, "MAX_BODY_BYTES", MIB, 1, 64 * MIB);
  const apiKeys = readApiKeys(env);
  return {
    ...common,
    ...readIngressTenantConfig(
      env,
      new Set(apiKeys.map((key) => key.tenant).filter((tenant) => tenant !== defaultTenant)),
    ),
    tracing: readTracingConfig(env, "rsd-ingress", common.podName),
    requestTimeoutMs: readInt(
      env,
      "REQUEST_TIMEOUT_MS",
      Math.min(30_000, common.maxTimeoutMs),
      1,
      common.maxTimeoutMs,
    ),
    maxQueueDepth: readInt(env, "MAX_QUEUE_DEPTH", 10_000, 0, INT_MAX),
    maxBodyBytes,
    resultTtlS: readInt(env, "RESULT_TTL_S", 3600, 1, INT_MAX),
    // Not in the contract's list for the ingress, but the same meaning as for the proxy: how long
    // a terminating ingress waits for in-flight replies before answering the rest 503.
    shutdownGraceMs: readInt(env, "SHUTDOWN_GRACE_MS", 25_000, 0, INT_MAX),
    apiKeyHashes: apiKeys.map((key) => key.hash),
    apiKeyTenants: apiKeys.map((key) => key.tenant),
    metricsPort: env.METRICS_PORT?.trim() ? readInt(env, "METRICS_PORT", 0, 1, 65535) : undefined,
    idleTimeoutS: readInt(env, "IDLE_TIMEOUT_S", 30, 1, 255),
    maxRedisMemoryPercent: readInt(env, "MAX_REDIS_MEMORY_PERCENT", 80, 1, 100),
    maxInflight: readInt(env, "MAX_INFLIGHT", 10_000, 1, INT_MAX),
    // At least one whole body, or a single large request could never be taken.
    maxInflightBytes: readInt(
      env,
      "MAX_INFLIGHT_BYTES",
      Math.max(256 * MIB, maxBodyBytes),
      maxBodyBytes,
      INT_MAX,
    ),
    adminKeys: readAdminKeys(env),
    adminSessionSecret: readAdminSessionSecret(env),
    adminMaxEventClients: readInt(env, "ADMIN_MAX_EVENT_CLIENTS", 16, 1, 1000),
    adminEventBufferBytes: readInt(env, "ADMIN_EVENT_BUFFER_BYTES", 256 * 1024, 1024, 64 * MIB),
    adminEventIntervalMs: readInt(env, "ADMIN_EVENT_INTERVAL_MS", 1000, 100, 60_000),
    breaker: readBreakerSwitch(env),
    admission: readEnum(env, "ADMISSION", "predictive", ["predictive", "depth"] as const),
  };
}

export function loadProxyConfig(env: Env = process.env): ProxyConfig {
  const common = readCommon(env, 3001);
  const handler = readEnum(env, "HANDLER", "simulate", handlerNames);
  const terminals = readInt(env, "TERMINALS", 5, 1, 1024);
  return {
    ...common,
    ...readProxyTenantConfig(env),
    tracing: readTracingConfig(env, "rsd-proxy", common.podName),
    terminals,
    handler,
    processingMs: readInt(env, "PROCESSING_MS", 150, 0, common.maxTimeoutMs),
    upstreamUrl:
      handler === "http" ? readUrl(env, "UPSTREAM_URL", undefined, ["http:", "https:"]) : undefined,
    upstreamHeaders: readHeaderMap(env, "UPSTREAM_HEADERS"),
    claimIdleMs: readInt(env, "CLAIM_IDLE_MS", 5000, 100, INT_MAX),
    maxDeliveries: readInt(env, "MAX_DELIVERIES", 3, 1, 100),
    shutdownGraceMs: readInt(env, "SHUTDOWN_GRACE_MS", 25_000, 0, INT_MAX),
    maxUpstreamResponseBytes: readInt(env, "MAX_UPSTREAM_RESPONSE_BYTES", 16 * MIB, 1, 1024 * MIB),
    deadLetterMaxCount: readInt(env, "DEAD_LETTER_MAX_COUNT", 100_000, 1, INT_MAX),
    deadLetterMaxAgeS: readInt(env, "DEAD_LETTER_MAX_AGE_S", 7 * 24 * 3600, 60, INT_MAX),
    protection: readProtection(env, terminals),
  };
}
