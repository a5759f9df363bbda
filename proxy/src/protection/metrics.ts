import { Counter, Gauge, type Registry } from "prom-client";

/** The protections' gauges: the limit every proxy applies (TERMINALS when fixed). */
export class ProtectionMetrics {
  readonly pauses: Counter;

  constructor(registry: Registry, limit: () => number) {
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
