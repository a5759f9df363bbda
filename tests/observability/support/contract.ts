/**
 * Metric names of the metrics contract (docs/contract.md, "Metrics"), the series names a histogram adds, and
 * the names the dashboard and alerts may take from other exporters.
 */
export const contract = {
  ingress: {
    counters: ["rsd_ingress_requests_total", "rsd_ingress_shed_total", "rsd_tenant_requests_total"],
    gauges: ["rsd_ingress_inflight_requests", "rsd_breaker_state"],
    histograms: ["rsd_ingress_request_duration_seconds"],
  },
  proxy: {
    counters: ["rsd_proxy_processed_total", "rsd_proxy_reclaimed_total", "rsd_proxy_backend_pauses_total"],
    gauges: [
      "rsd_proxy_concurrency_limit",
      "rsd_breaker_state",
      "rsd_proxy_terminals",
      "rsd_proxy_terminals_busy",
      "rsd_stream_length",
      "rsd_stream_lag",
      "rsd_stream_pending",
      // Exported (as TYPE lines without samples) with TENANT_LANES off too, so dashboards never miss them.
      "rsd_tenant_queue_depth",
      "rsd_tenant_terminals_busy",
    ],
    histograms: ["rsd_proxy_processing_duration_seconds", "rsd_proxy_queue_wait_seconds"],
  },
};

/** Series names a service's contract promises (histograms as `_bucket`, `_sum`, `_count`). */
export function contractSeries(service: keyof typeof contract): string[] {
  const { counters, gauges, histograms } = contract[service];
  return [
    ...counters,
    ...gauges,
    ...histograms.flatMap((name) => [`${name}_bucket`, `${name}_sum`, `${name}_count`]),
  ];
}

/** prom-client default process metrics the dashboard uses (Compose has no cAdvisor). */
export const processMetrics = ["process_cpu_seconds_total", "process_resident_memory_bytes"];

/** Names from other exporters: redis_exporter, cAdvisor, and Prometheus's own `up`. */
export const externalMetrics = [
  "redis_memory_used_bytes",
  "redis_memory_max_bytes",
  "container_cpu_usage_seconds_total",
  "container_memory_working_set_bytes",
  "up",
];
