/**
 * Tenant names (docs/contract.md, "Tenants"). A tenant name becomes part of Redis key names
 * (scoped results and idempotency keys, lanes) and of metric labels, so its alphabet is short and
 * has none of the characters that mean something there: no `:` (key separator), no `{}` (Redis
 * Cluster hash tags), no `*?[]` (patterns), no space (record words), nothing outside ASCII.
 */
export const defaultTenant = "default";

/**
 * RFC 9218's default urgency: what a request without a usable `Priority` header gets, and a
 * replayed one whose dead letter names none (written by an older proxy). (`default`, this) is the
 * shard stream itself.
 */
export const defaultUrgency = 3;

/** RFC 9218 urgencies: 0 (first) … 7 (last). */
export function isUrgency(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 7;
}

/** What the metrics fold every tenant beyond TENANT_METRICS_MAX into: reserved, never a tenant. */
export const otherTenants = "other";

const tenantPattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** How a valid name looks, for error messages. */
export const tenantNameRule =
  "1-32 characters from a-z 0-9 _ -, starting with a letter or digit, not `other`";

export function isTenantName(name: string): boolean {
  return tenantPattern.test(name) && name !== otherTenants;
}

/**
 * The tenant's part of a key name: undefined for `default`, whose keys keep their names from
 * before tenants. Anything that is no tenant name is refused here, the last guard before a key.
 */
export function scopedTenant(tenant: string | undefined): string | undefined {
  if (tenant === undefined || tenant === defaultTenant) return undefined;
  if (!isTenantName(tenant)) throw new Error(`not a tenant name: ${JSON.stringify(tenant.slice(0, 40))}`);
  return tenant;
}
