import type Redis from "ioredis";
import { Gauge, type Registry } from "prom-client";
import type { StreamKeys } from "./keys.ts";

export interface ShardSnapshot {
  stream: string;
  shard: number;
  /** Entries in the stream (XLEN). */
  length: number;
  /** Entries not yet delivered to any consumer. */
  lag: number;
  /** Entries delivered but not yet acknowledged. */
  pending: number;
  /** False when the shard could not be read (its Redis node is unreachable). */
  reachable: boolean;
}

export interface StreamSnapshot {
  /** Sums over the reachable shards. */
  length: number;
  lag: number;
  pending: number;
  shards: ShardSnapshot[];
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
 * Reads each request stream's length, lag and pending count, and mirrors them into the
 * `rsd_stream_*` gauges (labelled by shard). Lag comes from XINFO GROUPS (Redis ≥ 7.0); when Redis
 * cannot tell it (entries were deleted inside the unread range) it falls back to
 * entries-added − entries-read. A shard whose node does not answer is reported unreachable.
 */
export class StreamStats {
  private readonly lengthGauge: Gauge<"shard">;
  private readonly lagGauge: Gauge<"shard">;
  private readonly pendingGauge: Gauge<"shard">;
  latest: StreamSnapshot | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    registry: Registry,
  ) {
    const gauge = (name: string, help: string) =>
      new Gauge({ name, help, labelNames: ["shard"], registers: [registry] });
    this.lengthGauge = gauge("rsd_stream_length", "Entries in the request stream (XLEN), per shard.");
    this.lagGauge = gauge(
      "rsd_stream_lag",
      "Requests not yet read by any proxy (consumer group lag), per shard.",
    );
    this.pendingGauge = gauge(
      "rsd_stream_pending",
      "Requests read by a proxy but not yet acknowledged, per shard.",
    );
  }

  async refresh(): Promise<StreamSnapshot> {
    const shards = await Promise.all(
      this.keys.requestStreams.map((stream, shard) => this.readShard(stream, shard)),
    );
    const reachable = shards.filter((shard) => shard.reachable);
    const snapshot: StreamSnapshot = {
      length: reachable.reduce((sum, shard) => sum + shard.length, 0),
      lag: reachable.reduce((sum, shard) => sum + shard.lag, 0),
      pending: reachable.reduce((sum, shard) => sum + shard.pending, 0),
      shards,
      readAt: Date.now(),
    };
    for (const shard of reachable) {
      const labels = { shard: String(shard.shard) };
      this.lengthGauge.set(labels, shard.length);
      this.lagGauge.set(labels, shard.lag);
      this.pendingGauge.set(labels, shard.pending);
    }
    this.latest = snapshot;
    return snapshot;
  }

  private async readShard(stream: string, shard: number): Promise<ShardSnapshot> {
    try {
      // Two single commands (auto-pipelined by the client): no explicit pipeline, which on Redis
      // Cluster could hang across a slots refresh and stall this poll for good.
      const [length, groups] = await Promise.all([
        this.redis.xlen(stream),
        (this.redis.xinfo("GROUPS", stream) as Promise<unknown[]>).catch(() => undefined),
      ]);
      const groupsError = groups === undefined;
      // A missing stream answers "ERR no such key": the same as an empty stream without a group.
      const group = groupsError
        ? undefined
        : (groups ?? []).map(infoRecord).find((candidate) => candidate.name === this.keys.group);
      let lag = length;
      if (group) {
        lag =
          typeof group.lag === "number"
            ? group.lag
            : await this.lagFallback(stream, Number(group["entries-read"] ?? 0));
      }
      return { stream, shard, length, lag, pending: group ? Number(group.pending ?? 0) : 0, reachable: true };
    } catch {
      return { stream, shard, length: 0, lag: 0, pending: 0, reachable: false };
    }
  }

  private async lagFallback(stream: string, entriesRead: number): Promise<number> {
    const info = infoRecord(await this.redis.xinfo("STREAM", stream));
    return Math.max(0, Number(info["entries-added"] ?? 0) - entriesRead);
  }
}
