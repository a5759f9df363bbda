import { HotCounter, HotHistogram, latencyBuckets } from "@rsd/shared";
import { Counter, Gauge, type Registry } from "prom-client";

const processedOutcomes = ["ok", "error", "expired", "dead"] as const;
export type ProcessedOutcome = (typeof processedOutcomes)[number];

/** The proxy metrics of the contract, plus the handler's concurrency high-water mark. */
export class ProxyMetrics {
  readonly terminals: Gauge;
  readonly terminalsBusy: Gauge;
  readonly processed: HotCounter<"outcome">;
  readonly processingDuration: HotHistogram;
  readonly queueWait: HotHistogram;
  readonly reclaimed: Counter;
  readonly replyWriteFailures: Counter;
  readonly handlerConcurrencyMax: Gauge;

  countProcessed(outcome: ProcessedOutcome): void {
    this.processed.inc(outcome);
  }

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
    // Every outcome is exported from the start (at 0).
    this.processed = new HotCounter(
      {
        name: "rsd_proxy_processed_total",
        help: "Request deliveries finished, by outcome: ok, error (retried), expired (deadline passed), dead.",
        labelNames: ["outcome"],
        registers: [registry],
      },
      processedOutcomes,
    );
    this.processingDuration = new HotHistogram({
      name: "rsd_proxy_processing_duration_seconds",
      help: "Time a terminal spent on one request (handler call).",
      buckets: latencyBuckets,
      registers: [registry],
    });
    this.queueWait = new HotHistogram({
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
    this.replyWriteFailures = new Counter({
      name: "rsd_proxy_reply_write_failures_total",
      help: "Batches of replies, results or dead letters, and retries (requeues), that Redis refused or could not take; their entries stay pending and are retried.",
      registers: [registry],
    });
  }
}
