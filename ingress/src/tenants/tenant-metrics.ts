import { defaultTenant, otherTenants } from "@rsd/shared";
import { Counter, type Registry } from "prom-client";

/**
 * rsd_tenant_requests_total{tenant,status}: client requests answered, per tenant and HTTP status.
 * The label values stay bounded: the first `maxTenants` tenants this ingress sees get their own
 * series, every later one is counted as `other` (a name no tenant may take). Counting is two Map
 * lookups; the sums reach prom-client when Prometheus scrapes (as HotCounter does). Nothing is
 * counted until tenants are in use (a key names one, or a request of a tenant other than
 * `default` arrived): a one-tenant deployment pays one boolean per request.
 */
export class TenantRequestMetrics {
  private readonly pending = new Map<string, Map<string, number>>();

  constructor(
    registry: Registry,
    private readonly maxTenants: number,
    /** Tenants are in use from the start (API keys name them). */
    private active = false,
  ) {
    const pending = this.pending;
    new Counter({
      name: "rsd_tenant_requests_total",
      help: "Client requests answered, by tenant (the first TENANT_METRICS_MAX seen; the rest as `other`) and HTTP status.",
      labelNames: ["tenant", "status"],
      registers: [registry],
      collect() {
        for (const [tenant, statuses] of pending)
          for (const [status, count] of statuses) {
            if (count > 0) this.labels({ tenant, status }).inc(count);
            statuses.set(status, 0);
          }
      },
    });
  }

  /** Counts one answer; `tenant` undefined is `default`. */
  count(tenant: string | undefined, status: number): void {
    if (tenant === undefined && !this.active) return;
    this.active = true;
    const label = tenant ?? defaultTenant;
    const statuses = this.pending.get(label) ?? this.seriesOf(label);
    const key = String(status);
    statuses.set(key, (statuses.get(key) ?? 0) + 1);
  }

  /** A tenant not seen before: its own series while there is room, `other` afterwards. */
  private seriesOf(tenant: string): Map<string, number> {
    const name = this.pending.size < this.maxTenants ? tenant : otherTenants;
    let statuses = this.pending.get(name);
    if (statuses === undefined) {
      statuses = new Map();
      this.pending.set(name, statuses);
    }
    return statuses;
  }
}

/**
 * Runs `work` for `tenant`'s request and counts its answer; a thrown failure is counted with the
 * status the error plugin will give it (an HttpError's own, a validation 400, else 500).
 */
export async function countedAnswer(
  metrics: TenantRequestMetrics,
  tenant: string | undefined,
  work: () => Promise<Response>,
): Promise<Response> {
  try {
    const response = await work();
    metrics.count(tenant, response.status);
    return response;
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    metrics.count(tenant, typeof status === "number" ? status : 500);
    throw error;
  }
}
