/**
 * The configuration contract of docs/contract.md ("Environment variables"), as the deploy tests check it.
 * Kept here rather than imported from shared/ so the manifests are checked against the written
 * contract, not against whatever the code happens to accept today.
 */

/** Read by both services. */
export const COMMON_VARS = [
  "REDIS_URL",
  "STREAM_PREFIX",
  "PORT",
  "POD_NAME",
  "LOG_LEVEL",
  "MAX_TIMEOUT_MS",
  // Redis Cluster (optional): the Cluster client's seed nodes and the number of request streams.
  "REDIS_CLUSTER_NODES",
  "STREAM_SHARDS",
] as const;
/** Contract variables with a default a deployment may rely on. */
const OPTIONAL_VARS = new Set(["UPSTREAM_URL", "REDIS_CLUSTER_NODES", "STREAM_SHARDS"]);
export const INGRESS_VARS = [
  "REQUEST_TIMEOUT_MS",
  "MAX_QUEUE_DEPTH",
  "MAX_BODY_BYTES",
  "RESULT_TTL_S",
] as const;
export const PROXY_VARS = [
  "TERMINALS",
  "HANDLER",
  "PROCESSING_MS",
  "UPSTREAM_URL",
  "CLAIM_IDLE_MS",
  "MAX_DELIVERIES",
  "SHUTDOWN_GRACE_MS",
] as const;

export type Service = "ingress" | "proxy";

/** Every variable a service reads. */
export function contractVars(service: Service): Set<string> {
  return new Set([...COMMON_VARS, ...(service === "ingress" ? INGRESS_VARS : PROXY_VARS)]);
}

/**
 * What a deployment must set explicitly. UPSTREAM_URL only matters with HANDLER=http, the cluster
 * variables only with a Redis Cluster; POD_NAME is
 * required in Kubernetes (the consumer name must follow the pod) and deliberately left to the
 * hostname fallback in Compose, where it is unique per replica.
 */
export function requiredVars(service: Service, where: "kubernetes" | "compose"): string[] {
  return [...contractVars(service)].filter(
    (name) => !OPTIONAL_VARS.has(name) && !(where === "compose" && name === "POD_NAME"),
  );
}

/** Ports and routes of the HTTP contract. */
export const SERVICE_PORT: Record<Service, { port: number; name: string }> = {
  ingress: { port: 3000, name: "http" },
  proxy: { port: 3001, name: "http-metrics" },
};
export const LIVENESS_PATH = "/healthz";
export const READINESS_PATH = "/readyz";
export const METRICS_PATH = "/metrics";

/** The request stream and consumer group the proxies read (docs/contract.md, "The Redis protocol"). */
export const requestStream = (prefix: string) => `${prefix}:requests`;
export const CONSUMER_GROUP = "proxies";

/**
 * The production sizing (docs/deploy.md, "Capacity"): ingress 3 replicas (HPA 3 -> 10), proxy 15
 * replicas (HPA 15 -> 30) with 5 terminals each, one Redis; namespaces redis-stream-demo and
 * monitoring; host redis-stream-demo.local.
 */
export const SEED = {
  ingress: { replicas: 3, min: 3, max: 10 },
  proxy: { replicas: 15, min: 15, max: 30, terminals: 5 },
  redis: { replicas: 1 },
  appNamespace: "redis-stream-demo",
  monitoringNamespace: "monitoring",
  host: "redis-stream-demo.local",
} as const;
