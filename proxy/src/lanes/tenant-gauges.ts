import { type LaneQueue, otherTenants, type TenantLaneCounts } from "@rsd/shared";
import { Gauge, type Registry } from "prom-client";

/**
 * rsd_tenant_queue_depth{tenant} and rsd_tenant_terminals_busy{tenant}: requests waiting in a
 * tenant's lanes and terminals busy with them, fleet-wide (every pod exports the same values,
 * like rsd_stream_*), read lane by lane (LaneQueue.counts). Bounded: the
 * TENANT_METRICS_MAX tenants with the most work keep their own series, the rest are summed as
 * `other`; a tenant with nothing waiting or running has no series.
 */
export class TenantGauges {
  private readonly depth: Gauge<"tenant">;
  private readonly busy: Gauge<"tenant">;

  constructor(
    private readonly lanes: LaneQueue,
    registry: Registry,
    private readonly maxTenants: number,
  ) {
    this.depth = new Gauge({
      name: "rsd_tenant_queue_depth",
      help: "Requests waiting in a tenant's lanes, fleet-wide (TENANT_LANES).",
      labelNames: ["tenant"],
      registers: [registry],
    });
    this.busy = new Gauge({
      name: "rsd_tenant_terminals_busy",
      help: "Terminals busy with a tenant's requests, fleet-wide (TENANT_LANES).",
      labelNames: ["tenant"],
      registers: [registry],
    });
  }

  async refresh(): Promise<void> {
    const totals = new Map<string, TenantLaneCounts>();
    for (let shard = 0; shard < this.lanes.keys.shards; shard++) {
      for (const counts of await this.lanes.counts(shard)) {
        const total = totals.get(counts.tenant) ?? { tenant: counts.tenant, waiting: 0, inflight: 0 };
        total.waiting += counts.waiting;
        total.inflight += counts.inflight;
        totals.set(counts.tenant, total);
      }
    }
    const ranked = [...totals.values()].sort((a, b) => b.waiting + b.inflight - (a.waiting + a.inflight));
    this.depth.reset();
    this.busy.reset();
    ranked.forEach((counts, rank) => {
      const tenant = rank < this.maxTenants ? counts.tenant : otherTenants;
      this.depth.inc({ tenant }, counts.waiting);
      this.busy.inc({ tenant }, counts.inflight);
    });
  }
}
