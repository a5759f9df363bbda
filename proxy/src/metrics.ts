import { latencyBuckets } from "@rsd/shared";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export type ProcessedOutcome = "ok" | "error" | "expired" | "dead";

/** The proxy metrics of the contract, plus the handler's concurrency high-water mark. */
export class ProxyMetrics {
  readonly terminals: Gauge;
  readonly terminalsBusy: Gauge;
  readonly processed: Counter<"outcome">;
  readonly processingDuration: Histogram;
  readonly queueWait: Histogram;
  readonly reclaimed: Counter;
  readonly handlerConcurrencyMax: Gauge;

  constructor(registry: Registry, capacity: number, busy: () => number, peak: () => number) {
    this.terminals = new Gauge({
      name: "rsd_proxy_terminals",
      help: "Terminals (concurrency slots toward the backend) of this proxy.",
      registers: [registry],
    });
    this.terminals.set(capacity);
    this.terminalsBusy = new Gauge({
      name: "rsd_proxy_terminals_busy",
      help: "Terminals running a request right now (the active terminals).",
      registers: [registry],
      collect() {
        this.set(busy());
      },
    });
    this.handlerConcurrencyMax = new Gauge({
      name: "rsd_proxy_handler_concurrency_max",
      help: "Most handler calls ever running at once in this proxy (never above rsd_proxy_terminals).",
      registers: [registry],
      collect() {
        this.set(peak());
      },
    });
    this.processed = new Counter({
      name: "rsd_proxy_processed_total",
      help: "Request deliveries finished, by outcome: ok, error (retried), expired (deadline passed), dead.",
      labelNames: ["outcome"],
      registers: [registry],
    });
    for (const outcome of ["ok", "error", "expired", "dead"]) this.processed.inc({ outcome }, 0);
    this.processingDuration = new Histogram({
      name: "rsd_proxy_processing_duration_seconds",
      help: "Time a terminal spent on one request (handler call).",
      buckets: latencyBuckets,
      registers: [registry],
    });
    this.queueWait = new Histogram({
      name: "rsd_proxy_queue_wait_seconds",
      help: "Time from enqueue at the ingress to the start of processing.",
      buckets: latencyBuckets,
      registers: [registry],
    });
    this.reclaimed = new Counter({
      name: "rsd_proxy_reclaimed_total",
      help: "Requests taken over from a consumer that stopped working on them.",
      registers: [registry],
    });
  }
}
