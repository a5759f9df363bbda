import { Gauge, type Registry } from "prom-client";

/** The protections' gauges: the limit every proxy applies (TERMINALS when fixed). */
export class ProtectionMetrics {
  constructor(registry: Registry, limit: () => number) {
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
