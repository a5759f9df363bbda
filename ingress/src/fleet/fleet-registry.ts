import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";

/** What one proxy says about itself in its heartbeat (see proxy/src/fleet-heartbeat.ts). */
export interface ProxyHeartbeat {
  pod: string;
  terminals: number;
  busy: number;
  handler: string;
  processingMs: number | null;
  seenAt: number;
}

export interface FleetSummary {
  pods: number;
  terminals: number;
  busy: number;
  processingMs: number | null;
  theoreticalRps: number | null;
}

/** A heartbeat older than this belongs to a proxy that is gone. */
const liveWithinMs = 10_000;

/** Reads the proxies' heartbeats: how many terminals the fleet has, and what that allows per second. */
export async function readFleet(redis: Redis, keys: StreamKeys, now = Date.now()): Promise<FleetSummary> {
  const entries = await redis.hgetall(keys.fleet);
  const live: ProxyHeartbeat[] = [];
  const gone: string[] = [];
  for (const [pod, text] of Object.entries(entries)) {
    const beat = JSON.parse(text) as ProxyHeartbeat;
    if (now - beat.seenAt <= liveWithinMs) live.push(beat);
    else if (now - beat.seenAt > 6 * liveWithinMs) gone.push(pod);
  }
  if (gone.length > 0) await redis.hdel(keys.fleet, ...gone);
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
  };
}
