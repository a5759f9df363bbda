import type { FleetRegistry } from "@rsd/shared";

/** GET /api/fleet's answer: what the proxies' heartbeats add up to. */
export interface FleetSummary {
  pods: number;
  terminals: number;
  busy: number;
  processingMs: number | null;
  theoreticalRps: number | null;
  /** Sum of the proxies' concurrency limits (= terminals unless CONCURRENCY_LIMIT=adaptive). */
  concurrencyLimit: number;
  /** Each live proxy: its terminals, busy ones and limit now. */
  proxies: { pod: string; terminals: number; busy: number; limit: number }[];
}

/** Reads the proxies' heartbeats: how many terminals the fleet has, and what that allows per second. */
export async function readFleet(registry: FleetRegistry, now = Date.now()): Promise<FleetSummary> {
  const live = await registry.live(now);
  const terminals = live.reduce((sum, beat) => sum + beat.terminals, 0);
  const times = new Set(live.map((beat) => beat.processingMs));
  // Capacity is only meaningful when every proxy simulates the same processing time.
  const processingMs = times.size === 1 ? ([...times][0] ?? null) : null;
  return {
    pods: live.length,
    terminals,
    busy: live.reduce((sum, beat) => sum + beat.busy, 0),
    processingMs,
    theoreticalRps: processingMs ? Math.round((terminals * 1000) / processingMs) : null,
    concurrencyLimit: live.reduce((sum, beat) => sum + beat.limit, 0),
    proxies: live.map(({ pod, terminals, busy, limit }) => ({ pod, terminals, busy, limit })),
  };
}
