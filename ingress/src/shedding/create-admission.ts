import {
  breakerStateGauge,
  CircuitBreaker,
  type IngressConfig,
  type Logger,
  PeriodicTask,
  type RedisClient,
  type StreamKeys,
} from "@rsd/shared";
import type { Registry } from "prom-client";
import { Admission } from "./admission.ts";
import { BreakerWatch } from "./breaker-watch.ts";

export interface AdmissionDeps {
  config: IngressConfig;
  redis: RedisClient;
  keys: StreamKeys;
  registry: Registry;
  logger: Logger;
}

/**
 * The ingress's side of the backend protections: the breaker's cached state (BREAKER=on, read
 * every 200 ms). `admission` is undefined when nothing is on, so submit pays one check.
 */
export function createAdmission({ config, redis, keys, registry, logger }: AdmissionDeps) {
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
  const admission = breaker ? new Admission(breaker) : undefined;
  return { admission, tasks };
}
