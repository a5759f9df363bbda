import { Elysia } from "elysia";
import type { Registry } from "prom-client";

export interface HealthOptions {
  /** True when the service can do its work (Redis answers, its loops run, it is not draining). */
  isReady: () => boolean;
  registry: Registry;
}

/**
 * `/healthz` (the process lives), `/readyz` (it can serve) and `/metrics` (Prometheus text),
 * mounted once in each service.
 */
export function healthPlugin({ isReady, registry }: HealthOptions) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" }), { detail: { tags: ["operations"], summary: "Liveness" } })
    .get(
      "/readyz",
      ({ set }) => {
        if (isReady()) return { status: "ready" };
        set.status = 503;
        return { status: "not ready" };
      },
      { detail: { tags: ["operations"], summary: "Readiness: Redis answers and the service's loops run" } },
    )
    .get(
      "/metrics",
      async ({ set }) => {
        set.headers["content-type"] = registry.contentType;
        return await registry.metrics();
      },
      { detail: { tags: ["operations"], summary: "Prometheus metrics" } },
    );
}
