import { ConfigError, type Env, readEnum, readInt } from "./config-parse.ts";
import { isTenantName, tenantNameRule } from "./protocol/tenant.ts";

const INT_MAX = Number.MAX_SAFE_INTEGER;

/** Lanes and fair scheduling (docs/architecture.md, "Tenants, lanes and weighted fair scheduling"). */
export interface LaneConfig {
  /** TENANT_LANES=on: per-(tenant, urgency) lanes and fair dispatch; both services must agree. */
  tenantLanes: boolean;
  /** Tenants with their own rsd_tenant_* series; the rest are counted as `other`. */
  tenantMetricsMax: number;
}

export interface IngressTenantConfig extends LaneConfig {
  /** A tenant with more waiting requests than this gets 429 (0 = off; needs lanes). */
  tenantMaxQueueDepth: number;
  /**
   * The most tenants (other than `default`) with requests waiting or running at once; a request
   * of one more gets 503 (0 = off; needs lanes). Each such tenant is up to eight lanes that every
   * dispatch and every quota poll reads, so this bounds Redis's work per call.
   */
  tenantMaxActive: number;
}

export interface ProxyTenantConfig extends LaneConfig {
  /** Weight per tenant; a tenant not named weighs 1. */
  tenantWeights: Record<string, number>;
  /** Terminals one tenant may hold fleet-wide (0 = off). */
  tenantMaxInflight: number;
  /** A less urgent lane whose oldest waiting request is older than this goes first. */
  laneAgingMs: number;
  /** Anticipation: how long a terminal may stay free for an under-share tenant's next request (0 = off). */
  laneHoldMs: number;
}

function readLanes(env: Env): LaneConfig {
  return {
    tenantLanes: readEnum(env, "TENANT_LANES", "off", ["on", "off"] as const) === "on",
    tenantMetricsMax: readInt(env, "TENANT_METRICS_MAX", 20, 1, 1000),
  };
}

/** `acme=3,globex=1`: tenant names and integer weights 1…1000, each tenant once. */
export function readTenantWeights(env: Env): Record<string, number> {
  const text = env.TENANT_WEIGHTS?.trim();
  const weights: Record<string, number> = {};
  if (!text) return weights;
  for (const entry of text.split(",")) {
    const [tenant = "", weight = "", extra] = entry.trim().split("=");
    if (
      extra !== undefined ||
      !isTenantName(tenant) ||
      !/^\d{1,4}$/.test(weight) ||
      Number(weight) < 1 ||
      Number(weight) > 1000 ||
      tenant in weights
    )
      throw new ConfigError(
        "TENANT_WEIGHTS",
        text,
        `comma-separated tenant=weight pairs, each tenant once (${tenantNameRule}; weight an integer 1-1000)`,
      );
    weights[tenant] = Number(weight);
  }
  return weights;
}

/** `keyedTenants`: the tenants API keys name (other than `default`); the cap must leave them room. */
export function readIngressTenantConfig(env: Env, keyedTenants: ReadonlySet<string>): IngressTenantConfig {
  const tenantMaxActive = readInt(env, "TENANT_MAX_ACTIVE", 100, 0, 10_000);
  if (tenantMaxActive > 0 && keyedTenants.size > tenantMaxActive)
    throw new ConfigError(
      "TENANT_MAX_ACTIVE",
      String(tenantMaxActive),
      `0 (off) or at least the ${keyedTenants.size} tenants API_KEYS and API_KEYS_FILE name`,
    );
  return {
    ...readLanes(env),
    tenantMaxQueueDepth: readInt(env, "TENANT_MAX_QUEUE_DEPTH", 0, 0, INT_MAX),
    tenantMaxActive,
  };
}

export function readProxyTenantConfig(env: Env): ProxyTenantConfig {
  return {
    ...readLanes(env),
    tenantWeights: readTenantWeights(env),
    tenantMaxInflight: readInt(env, "TENANT_MAX_INFLIGHT", 0, 0, INT_MAX),
    laneAgingMs: readInt(env, "LANE_AGING_MS", 1000, 1, INT_MAX),
    laneHoldMs: readInt(env, "LANE_HOLD_MS", 5, 0, 1000),
  };
}
