import {
  breakerStateGauge,
  CircuitBreaker,
  type IngressConfig,
  type Logger,
  PeriodicTask,
  type RedisClient,
  type StreamKeys,
  type StreamStats,
} from "@rsd/shared";
import type { Registry } from "prom-client";
import { Admission } from "./admission.ts";
import { BreakerWatch } from "./breaker-watch.ts";
import { WaitPredictor } from "./wait-predictor.ts";

export interface AdmissionDeps {
  config: IngressConfig;
  redis: RedisClient;
  keys: StreamKeys;
  registry: Registry;
  logger: Logger;
  stats: StreamStats;
}

/**
 * The ingress's side of the backend protections: the breaker's cached state (BREAKER=on, read
 * every 200 ms) and the predicted wait (ADMISSION=predictive, from the stream stats' poll).
 * `admission` is undefined when both are off, so submit pays one check.
 */
export function createAdmission({ config, redis, keys, registry, logger, stats }: AdmissionDeps) {
  const tasks: PeriodicTask[] = [];
  let breaker: BreakerWatch | undefined;
  if (config.breaker) {
    const watch = new BreakerWatch(new CircuitBreaker({ client: redis, keys }));
    breaker = watch;
    tasks.push(
      new PeriodicTask("circuit breaker", 200, () => (redis.ready ? watch.refresh() : undefined), logger),
    );
  }
  breakerStateGauge(registry, () => breaker?.state ?? 0);
  const predictor = config.admission === "predictive" ? new WaitPredictor(() => stats.latest) : undefined;
  const admission = breaker || predictor ? new Admission(breaker, predictor) : undefined;
  return { admission, tasks, breaker };
}
