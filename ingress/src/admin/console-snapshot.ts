import type { DeadLetters, FleetRegistry, QueueAge, RedisClient, StreamStats } from "@rsd/shared";
import type { IngressMetrics } from "../metrics.ts";
import type { BreakerWatch } from "../shedding/breaker-watch.ts";
import type { LaneRouter } from "../tenants/lane-router.ts";
import { RollingStats, type TrafficPoint } from "./rolling-stats.ts";

/** Pods listed in one message at most (the counts still cover the whole fleet). */
export const maxListedPods = 200;

/** One pod as the console shows it. */
export interface PodView {
  pod: string;
  terminals: number;
  busy: number;
  /** The concurrency limit the proxy applies now (heartbeat `limit`: TERMINALS, or the adaptive limit). */
  concurrencyLimit: number;
  handler: string;
  /** How long ago its last heartbeat was written, by this ingress's clock. */
  seenAgoMs: number;
}

/** The message the console receives once a tick (docs/contract.md, "Console events"). */
export interface ConsoleSnapshot {
  at: number;
  ingress: string;
  /** `unavailable`: Redis did not answer; fleet, queue and deadLetters are then null. */
  redis: "ok" | "unavailable";
  fleet: { pods: number; terminals: number; busy: number; list: PodView[]; truncated: boolean } | null;
  queue: {
    depth: number;
    lag: number;
    pending: number;
    oldestWaitingMs: number | null;
    shards: number;
  } | null;
  traffic: {
    /** This tick. */
    point: TrafficPoint | null;
    /** Averages and percentiles over the last minute of ticks. */
    lastMinute: { rps: number; errorRate: number; p50Ms: number | null; p99Ms: number | null };
  };
  /** Requests refused with 503 by this ingress since it started, by reason. */
  shed: Record<string, number>;
  deadLetters: number | null;
  /** BREAKER=on: the fleet's breaker as this ingress last read it; null when off (or not read lately). */
  breaker: { state: "closed" | "half-open" | "open"; openLeftMs: number } | null;
  /** TENANT_LANES=on: the tenants with requests waiting, most first (at most 20); null when off. */
  tenants: { tenant: string; waiting: number }[] | null;
  /** Event-stream clients connected to this ingress. */
  clients: number;
}

export interface SnapshotSources {
  ingressId: string;
  redis: RedisClient;
  fleet: FleetRegistry;
  stats: StreamStats;
  queueAge: QueueAge;
  deadLetters: DeadLetters;
  metrics: IngressMetrics;
  /** ADMIN_EVENT_INTERVAL_MS: one tick of the rolling figures. */
  intervalMs: number;
  breaker?: BreakerWatch | undefined;
  lanes?: LaneRouter | undefined;
}

/** The rolling window of traffic the console keeps, and the span its summary covers. */
const windowMs = 5 * 60_000;
const summaryMs = 60_000;

/**
 * Builds the console's snapshot once a tick, shared by every client: the rolling traffic figures
 * from the ingress's own metrics (RollingStats), and from Redis a bounded handful of commands —
 * the heartbeats, the oldest waiting entry per shard, the dead-letter count. The queue depth, lag
 * and pending count are the ones the ingress polls anyway (StreamStats).
 */
export class ConsoleSnapshots {
  readonly rolling: RollingStats;
  private readonly summaryTicks: number;

  constructor(private readonly sources: SnapshotSources) {
    this.rolling = new RollingStats(sources.metrics.duration, Math.ceil(windowMs / sources.intervalMs));
    this.summaryTicks = Math.ceil(summaryMs / sources.intervalMs);
  }

  async take(clients: number, now = Date.now()): Promise<ConsoleSnapshot> {
    const { metrics } = this.sources;
    const [answers, shedMetric] = await Promise.all([metrics.requests.counter.get(), metrics.shed.get()]);
    const errors = answers.values
      .filter((value) => String(value.labels.status ?? "").startsWith("5"))
      .reduce((sum, value) => sum + value.value, 0);
    const point = this.rolling.sample(errors, now) ?? null;
    const shed: Record<string, number> = {};
    for (const value of shedMetric.values) shed[String(value.labels.reason)] = value.value;
    const snapshot: ConsoleSnapshot = {
      at: now,
      ingress: this.sources.ingressId,
      redis: "unavailable",
      fleet: null,
      queue: null,
      traffic: { point, lastMinute: this.rolling.summary(this.summaryTicks) },
      shed,
      deadLetters: null,
      breaker: this.sources.breaker?.view(now) ?? null,
      tenants: this.sources.lanes?.waitingByTenant(now) ?? null,
      clients,
    };
    if (!this.sources.redis.ready) return snapshot;
    try {
      const [fleet, queue, deadLetters] = await Promise.all([
        this.readFleet(now),
        this.readQueue(),
        this.sources.deadLetters.count(),
      ]);
      return { ...snapshot, redis: "ok", fleet, queue, deadLetters };
    } catch {
      return snapshot;
    }
  }

  private async readFleet(now: number): Promise<NonNullable<ConsoleSnapshot["fleet"]>> {
    const live = (await this.sources.fleet.live(now)).sort((a, b) => a.pod.localeCompare(b.pod));
    return {
      pods: live.length,
      terminals: live.reduce((sum, beat) => sum + beat.terminals, 0),
      busy: live.reduce((sum, beat) => sum + beat.busy, 0),
      list: live.slice(0, maxListedPods).map((beat) => ({
        pod: beat.pod,
        terminals: beat.terminals,
        busy: beat.busy,
        concurrencyLimit: beat.limit,
        handler: beat.handler,
        seenAgoMs: Math.max(0, now - beat.seenAt),
      })),
      truncated: live.length > maxListedPods,
    };
  }

  private async readQueue(): Promise<NonNullable<ConsoleSnapshot["queue"]>> {
    const { stats, queueAge } = this.sources;
    const streams = stats.latest?.shards.map((shard) => shard.stream) ?? [];
    const [redisNow, ...oldest] = await Promise.all([
      queueAge.now(),
      ...streams.map((stream) => queueAge.oldestWaiting(stream)),
    ]);
    const times = oldest.filter((at): at is number => at !== undefined);
    return {
      depth: stats.latest?.length ?? 0,
      lag: stats.latest?.lag ?? 0,
      pending: stats.latest?.pending ?? 0,
      oldestWaitingMs: times.length ? Math.max(0, (redisNow as number) - Math.min(...times)) : null,
      shards: streams.length,
    };
  }
}
