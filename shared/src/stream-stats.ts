import { Gauge, type Registry } from "prom-client";
import type { RequestQueue } from "./protocol/request-queue.ts";

export interface ShardSnapshot {
  stream: string;
  shard: number;
  /** Entries in the stream (XLEN). */
  length: number;
  /** Entries not yet delivered to any consumer. */
  lag: number;
  /** Entries delivered but not yet acknowledged. */
  pending: number;
  /** Entries the group ever delivered (its growth is the drain rate). */
  read: number;
  /** False when the shard could not be read (its Redis node is unreachable). */
  reachable: boolean;
}

export interface StreamSnapshot {
  /** Sums over the reachable shards. */
  length: number;
  lag: number;
  pending: number;
  /** Entries ever delivered, summed over the reachable shards. */
  read: number;
  shards: ShardSnapshot[];
  /** When the snapshot was read, epoch ms. */
  readAt: number;
}

/**
 * Reads each request stream's length, lag and pending count, and mirrors them into the
 * `rsd_stream_*` gauges (labelled by shard). A shard whose node does not answer is reported
 * unreachable.
 */
export class StreamStats {
  private readonly lengthGauge: Gauge<"shard">;
  private readonly lagGauge: Gauge<"shard">;
  private readonly pendingGauge: Gauge<"shard">;
  latest: StreamSnapshot | undefined;

  constructor(
    private readonly queue: RequestQueue,
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
      this.queue.keys.requestStreams.map((stream, shard) => this.readShard(stream, shard)),
    );
    const reachable = shards.filter((shard) => shard.reachable);
    const snapshot: StreamSnapshot = {
      length: reachable.reduce((sum, shard) => sum + shard.length, 0),
      lag: reachable.reduce((sum, shard) => sum + shard.lag, 0),
      pending: reachable.reduce((sum, shard) => sum + shard.pending, 0),
      read: reachable.reduce((sum, shard) => sum + shard.read, 0),
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
      return { stream, shard, ...(await this.queue.counts(stream)), reachable: true };
    } catch {
      return { stream, shard, length: 0, lag: 0, pending: 0, read: 0, reachable: false };
    }
  }
}
