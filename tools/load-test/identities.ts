import { InvalidArgumentError } from "commander";

/**
 * Who a request is sent as: a tenant named by `X-Tenant` (an ingress without API keys) or an API
 * key (which names its tenant at the ingress). A run with several identities sends its requests
 * round robin across them and reports each one separately.
 */
export interface Identity {
  /** The name the summary reports it under: the tenant, or `key1`, `key2`… for a plain key. */
  label: string;
  headers: Record<string, string>;
}

/** The ingress's tenant-name rule (docs/contract.md, "Tenants and priority"). */
const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Repeated `--tenant <name>` options accumulate. */
export function collectTenant(value: string, previous: string[] = []): string[] {
  if (!tenantPattern.test(value) || value === "other")
    throw new InvalidArgumentError("--tenant must be 1-32 characters from a-z 0-9 _ - (not `other`).");
  return [...previous, value];
}

/** Repeated `--api-key <key>` options accumulate; `tenant:key` labels the key with its tenant. */
export function collectApiKey(value: string, previous: string[] = []): string[] {
  if (value.trim() === "") throw new InvalidArgumentError("--api-key must not be empty.");
  return [...previous, value.trim()];
}

/**
 * The identities of a run: one per --tenant, one per --api-key. None given: one anonymous identity
 * without headers (the run is not split by tenant). A key written `tenant:key` (as in API_KEYS)
 * is sent as `key` and reported as `tenant`.
 */
export function identitiesOf(tenants: readonly string[], apiKeys: readonly string[]): Identity[] {
  const identities: Identity[] = tenants.map((tenant) => ({
    label: tenant,
    headers: { "x-tenant": tenant },
  }));
  apiKeys.forEach((entry, index) => {
    const colon = entry.indexOf(":");
    const tenant = colon > 0 ? entry.slice(0, colon) : "";
    const named = tenantPattern.test(tenant);
    const key = named ? entry.slice(colon + 1) : entry;
    identities.push({
      label: named ? tenant : `key${index + 1}`,
      headers: { authorization: `Bearer ${key}` },
    });
  });
  return identities.length > 0 ? identities : [{ label: "default", headers: {} }];
}

/** `--priority 0…7` → the RFC 9218 header. */
export function parsePriority(value: string): number {
  if (!/^[0-7]$/.test(value)) throw new InvalidArgumentError("--priority must be an urgency from 0 to 7.");
  return Number(value);
}
