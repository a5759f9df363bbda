import type Redis from "ioredis";
import { Gauge, type Registry } from "prom-client";
import type { StreamKeys } from "./keys.ts";

export interface StreamSnapshot {
  /** Entries in the request stream (XLEN). */
  length: number;
  /** Entries not yet delivered to any consumer. */
  lag: number;
  /** Entries delivered but not yet acknowledged. */
  pending: number;
  /** False when the consumer group does not exist (yet, or Redis restarted empty). */
  groupExists: boolean;
  /** Last delivered id of the group, when it exists. */
  lastDeliveredId: string | undefined;
  /** When the snapshot was read, epoch ms. */
  readAt: number;
}

/** XINFO replies are flat [name, value, …] arrays. */
function infoRecord(reply: unknown): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return record;
  for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = reply[index + 1];
  return record;
}

/**
 * Reads the request stream's length, lag and pending count, and mirrors them into the
 * `rsd_stream_*` gauges. Lag comes from XINFO GROUPS (Redis ≥ 7.0); when Redis cannot tell it
 * (entries were deleted inside the unread range) it falls back to entries-added − entries-read.
 */
export class StreamStats {
  private readonly lengthGauge: Gauge;
  private readonly lagGauge: Gauge;
  private readonly pendingGauge: Gauge;
  latest: StreamSnapshot | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    registry: Registry,
  ) {
    this.lengthGauge = new Gauge({
      name: "rsd_stream_length",
      help: "Entries in the request stream (XLEN).",
      registers: [registry],
    });
    this.lagGauge = new Gauge({
      name: "rsd_stream_lag",
      help: "Requests in the stream not yet read by any proxy (consumer group lag).",
      registers: [registry],
    });
    this.pendingGauge = new Gauge({
      name: "rsd_stream_pending",
      help: "Requests read by a proxy but not yet acknowledged.",
      registers: [registry],
    });
  }

  async refresh(): Promise<StreamSnapshot> {
    const [[lengthError, length], [groupsError, groups]] = (await this.redis
      .pipeline()
      .xlen(this.keys.requests)
      .xinfo("GROUPS", this.keys.requests)
      .exec()) as [[Error | null, number], [Error | null, unknown[]]];
    if (lengthError) throw lengthError;
    // A missing stream answers "ERR no such key": the same as an empty stream without a group.
    const group = groupsError
      ? undefined
      : (groups ?? []).map(infoRecord).find((candidate) => candidate.name === this.keys.group);
    let lag = 0;
    if (group) {
      lag =
        typeof group.lag === "number"
          ? group.lag
          : await this.lagFallback(Number(group["entries-read"] ?? 0));
    } else {
      lag = length;
    }
    const snapshot: StreamSnapshot = {
      length,
      lag,
      pending: group ? Number(group.pending ?? 0) : 0,
      groupExists: group !== undefined,
      lastDeliveredId: group ? String(group["last-delivered-id"]) : undefined,
      readAt: Date.now(),
    };
    this.lengthGauge.set(snapshot.length);
    this.lagGauge.set(snapshot.lag);
    this.pendingGauge.set(snapshot.pending);
    this.latest = snapshot;
    return snapshot;
  }

  private async lagFallback(entriesRead: number): Promise<number> {
    const info = infoRecord(await this.redis.xinfo("STREAM", this.keys.requests));
    return Math.max(0, Number(info["entries-added"] ?? 0) - entriesRead);
  }
}
