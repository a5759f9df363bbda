import { breakerStateGauge } from "@rsd/shared";
import { Counter, Gauge, type Registry } from "prom-client";

/** The protections' gauges: the limit every proxy applies (TERMINALS when fixed). */
export class ProtectionMetrics {
  readonly pauses: Counter;
  private breakerState: () => number = () => 0;

  /** rsd_breaker_state follows `state` (it stays 0 with BREAKER=off). */
  watchBreaker(state: () => number): void {
    this.breakerState = state;
  }

  constructor(registry: Registry, limit: () => number) {
    breakerStateGauge(registry, () => this.breakerState());
    this.pauses = new Counter({
      name: "rsd_proxy_backend_pauses_total",
      help: "Backend answers (429, or 503 with Retry-After) that paused the fleet (BACKEND_PAUSE=on).",
      registers: [registry],
    });
    new Gauge({
      name: "rsd_proxy_concurrency_limit",
      help: "Requests this proxy lets run at once now: TERMINALS, or the adaptive limit (CONCURRENCY_LIMIT=adaptive).",
      registers: [registry],
      collect() {
        this.set(limit());
      },
    });
  }
}
