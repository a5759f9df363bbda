import type { FleetRegistry } from "@rsd/shared";
import { Elysia, t } from "elysia";
import { UnavailableError } from "../http/errors.ts";
import { readFleet } from "./fleet-registry.ts";

/** GET /api/fleet: the live proxies, their terminals and the theoretical throughput. */
export function fleetController(registry: FleetRegistry) {
  return new Elysia({ prefix: "/api/fleet", tags: ["fleet"] }).get(
    "",
    async () => {
      try {
        return await readFleet(registry);
      } catch {
        throw new UnavailableError("Redis is unavailable; retry later", 1);
      }
    },
    {
      response: t.Object({
        pods: t.Integer(),
        terminals: t.Integer(),
        busy: t.Integer(),
        processingMs: t.Union([t.Number(), t.Null()]),
        theoreticalRps: t.Union([t.Number(), t.Null()]),
        concurrencyLimit: t.Integer(),
        proxies: t.Array(
          t.Object({ pod: t.String(), terminals: t.Integer(), busy: t.Integer(), limit: t.Integer() }),
        ),
      }),
      detail: {
        summary: "Live proxies and capacity",
        description:
          "theoreticalRps = terminals ÷ processing time, when every proxy simulates the same time. concurrencyLimit sums the proxies' limits (CONCURRENCY_LIMIT).",
      },
    },
  );
}
