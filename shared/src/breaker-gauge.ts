import { Gauge, type Registry } from "prom-client";

/** rsd_breaker_state, exported by both services: the fleet's breaker as this process last read it. */
export function breakerStateGauge(registry: Registry, state: () => number): Gauge {
  return new Gauge({
    name: "rsd_breaker_state",
    help: "The fleet's circuit breaker toward the backend as this service last read it: 0 closed, 1 half-open, 2 open (0 with BREAKER=off).",
    registers: [registry],
    collect() {
      this.set(state());
    },
  });
}
