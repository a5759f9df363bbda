import { collectDefaultMetrics, Registry } from "prom-client";

/**
 * Latency buckets from 0.5 ms to 60 s: the pipeline's own overhead is sub-millisecond, a slow
 * backend takes seconds, and deadlines go up to minutes.
 */
export const latencyBuckets = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2.5, 5, 10, 30, 60,
];

/**
 * One registry per service with prom-client's default process metrics. No `pod` label here:
 * Prometheus adds it from pod metadata when it scrapes (see kustomize/base/monitoring/config).
 */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
