import { HotCounter, HotHistogram, latencyBuckets } from "@rsd/shared";
import { Counter, Gauge, type Registry } from "prom-client";

/** The ingress metrics of the contract. */
export class IngressMetrics {
  readonly requests: HotCounter<"status">;
  readonly duration: HotHistogram;
  readonly inflight: Gauge;
  /** API requests received and not yet answered (what the inflight gauge reports). */
  inflightRequests = 0;
  readonly shed: Counter<"reason">;

  /** Exports what `budget` holds: rsd_ingress_inflight_bytes, read at scrape time. */
  watchBudget(budget: { bytes: number }): void {
    this.budgetSource = budget;
  }
  private budgetSource: { bytes: number } | undefined;

  /** Counts one answer by its HTTP status. */
  answered(status: number): void {
    this.requests.inc(String(status));
  }

  constructor(registry: Registry) {
    this.requests = new HotCounter({
      name: "rsd_ingress_requests_total",
      help: "API requests answered, by HTTP status.",
      labelNames: ["status"],
      registers: [registry],
    });
    this.duration = new HotHistogram({
      name: "rsd_ingress_request_duration_seconds",
      help: "Time from receiving an API request to answering it.",
      buckets: latencyBuckets,
      registers: [registry],
    });
    const metrics = this;
    this.inflight = new Gauge({
      name: "rsd_ingress_inflight_requests",
      help: "API requests received and not yet answered.",
      registers: [registry],
      // Read at scrape time from a plain number: no gauge update (label hashing) twice per request.
      collect() {
        this.set(metrics.inflightRequests);
      },
    });
    this.shed = new Counter({
      name: "rsd_ingress_shed_total",
      help: "Requests refused with 503 before enqueueing, by reason: depth (MAX_QUEUE_DEPTH), memory (MAX_REDIS_MEMORY_PERCENT), shards (no shard could take it), breaker (BREAKER open), predicted_wait (ADMISSION=predictive), tenants (TENANT_MAX_ACTIVE); and with 429, tenant_depth (TENANT_MAX_QUEUE_DEPTH).",
      labelNames: ["reason"],
      registers: [registry],
    });
    new Gauge({
      name: "rsd_ingress_inflight_bytes",
      help: "Request-body bytes held by requests in progress (bounded by MAX_INFLIGHT_BYTES).",
      registers: [registry],
      collect() {
        this.set(metrics.budgetSource?.bytes ?? 0);
      },
    });
    // Every reason is exported from the start (at 0), so a rate over it never starts from nothing.
    for (const reason of [
      "depth",
      "memory",
      "shards",
      "breaker",
      "predicted_wait",
      "tenants",
      "tenant_depth",
    ])
      this.shed.inc({ reason }, 0);
  }
}
