import { latencyBuckets } from "@rsd/shared";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** The ingress metrics of the contract. */
export class IngressMetrics {
  readonly requests: Counter<"status">;
  readonly duration: Histogram;
  readonly inflight: Gauge;
  /** API requests received and not yet answered (what the inflight gauge reports). */
  inflightRequests = 0;
  readonly shed: Counter;
  private readonly answeredByStatus: Map<number, { inc(): void }>;

  /** Counts one answer: the labelled child is looked up once per status, not hashed per request. */
  answered(status: number): void {
    let child = this.answeredByStatus.get(status);
    if (!child) {
      child = this.requests.labels({ status: String(status) });
      this.answeredByStatus.set(status, child);
    }
    child.inc();
  }

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: "rsd_ingress_requests_total",
      help: "API requests answered, by HTTP status.",
      labelNames: ["status"],
      registers: [registry],
    });
    this.duration = new Histogram({
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
    this.answeredByStatus = new Map();
    this.shed = new Counter({
      name: "rsd_ingress_shed_total",
      help: "Requests refused with 503 because the queue was deeper than MAX_QUEUE_DEPTH.",
      registers: [registry],
    });
  }
}
