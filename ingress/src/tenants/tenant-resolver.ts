import { defaultTenant, defaultUrgency, hashApiKey, isTenantName, tenantNameRule } from "@rsd/shared";
import { BadRequestError } from "../http/errors.ts";
import { urgencyOf } from "./priority.ts";

/** The optional header that names the tenant when no API keys are configured (unauthenticated). */
export const tenantHeader = "x-tenant";

export interface TenantResolverOptions {
  /** The accepted keys' digests (API_KEYS, API_KEYS_FILE); empty = no authentication. */
  apiKeyHashes: readonly Buffer[];
  /** The tenant of each key, same index. */
  apiKeyTenants: readonly string[];
  /** TENANT_LANES: only then does a request's urgency order anything, so only then is it parsed. */
  tenantLanes?: boolean;
}

/**
 * Which tenant a request belongs to (docs/contract.md, "Tenants"). With API keys, the key names
 * it, and `X-Tenant` is ignored: a client cannot claim another tenant's share or results. Without
 * keys, `X-Tenant` names it; nothing proves it, which SECURITY.md says. Returns undefined for
 * `default`, which keeps today's key names and record shape.
 */
export class TenantResolver {
  /** Key digest (hex) → tenant, only for keys of a tenant other than `default`. */
  private readonly byDigest = new Map<string, string>();
  private readonly keyed: boolean;
  private readonly lanes: boolean;
  /** Some API key names a tenant other than `default`. */
  readonly keyedTenants: boolean;

  constructor(options: TenantResolverOptions) {
    this.keyed = options.apiKeyHashes.length > 0;
    this.lanes = options.tenantLanes === true;
    options.apiKeyHashes.forEach((hash, index) => {
      const tenant = options.apiKeyTenants[index] ?? defaultTenant;
      if (tenant !== defaultTenant) this.byDigest.set(hash.toString("hex"), tenant);
    });
    this.keyedTenants = this.byDigest.size > 0;
  }

  /** The request's urgency (RFC 9218 `Priority`); without lanes one boolean and the default. */
  urgencyOf(request: Request): number {
    return this.lanes ? urgencyOf(request.headers.get("priority")) : defaultUrgency;
  }

  /**
   * The request's tenant, or undefined for `default`. Call it only after the API key check
   * passed (auth-plugin.ts). Throws a 400 for an `X-Tenant` that is no tenant name.
   */
  of(request: Request): string | undefined {
    if (this.keyed) return this.byDigest.size === 0 ? undefined : this.ofKey(request);
    const named = request.headers.get(tenantHeader);
    if (named === null || named === defaultTenant) return undefined;
    // A repeated header arrives joined with ", ": no tenant name has a comma or space, so it is refused.
    if (!isTenantName(named)) throw new BadRequestError(`X-Tenant must be ${tenantNameRule}`);
    return named;
  }

  /** The accepted key is already known to be valid: its digest only looks its tenant up. */
  private ofKey(request: Request): string | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (match === null) return undefined;
    return this.byDigest.get(hashApiKey(match[1] as string).toString("hex"));
  }
}
