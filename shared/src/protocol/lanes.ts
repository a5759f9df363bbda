import type { RedisClient } from "./client/redis-client.ts";
import { laneId, type StreamKeys } from "./keys.ts";
import { encodeRequest, type RequestMessage } from "./records/request.ts";
import { scripts } from "./scripts/index.ts";
import { scopedTenant } from "./tenant.ts";

/** One tenant's counts in one shard, as the dispatch script saw them. */
export interface TenantLaneCounts {
  tenant: string;
  /** Requests in its lanes not yet read by any proxy. */
  waiting: number;
  /** Requests of its lanes read and not yet acknowledged (terminals busy with them, fleet-wide). */
  inflight: number;
}

/** An entry dispatched from a lane: the lane stream it lives on, its id and fields. */
export type LaneEntry = [stream: string, id: string, fields: string[]];

export interface Dispatched {
  entries: LaneEntry[];
  counts: TenantLaneCounts[];
  /** When nothing was read: where the idle wait starts (bell, default lane). */
  wakeAfter: [bell: string, defaultLane: string] | undefined;
}

/** The fairness policy the proxies apply (TENANT_WEIGHTS, TENANT_MAX_INFLIGHT, LANE_AGING_MS). */
export interface DispatchPolicy {
  weights: Record<string, number>;
  maxInflight: number;
  agingMs: number;
}

/**
 * The lanes of the request queue (TENANT_LANES; docs/architecture.md, "Tenants, lanes and
 * weighted fair scheduling"): per shard one stream per (tenant, urgency) with work, an active
 * set, a bell. The default lane is the shard's request stream, which RequestQueue owns.
 */
export class LaneQueue {
  private readonly client: RedisClient;
  readonly keys: StreamKeys;
  private readonly policyArgs: string[];

  constructor(options: { client: RedisClient; keys: StreamKeys; policy?: DispatchPolicy }) {
    this.client = options.client;
    this.keys = options.keys;
    const policy = options.policy ?? { weights: {}, maxInflight: 0, agingMs: 1000 };
    const weights = Object.entries(policy.weights);
    this.policyArgs = [
      String(policy.maxInflight),
      String(policy.agingMs),
      String(weights.length),
      ...weights.flatMap(([tenant, weight]) => [tenant, String(weight)]),
    ];
  }

  /** Adds `message` to its lane of `shard` (not the default lane: that is RequestQueue.enqueue). */
  async enqueue(shard: number, message: RequestMessage, urgency: number): Promise<void> {
    const { keys } = this;
    const tenant = scopedTenant(message.tenant);
    await this.client.runScript(scripts.enqueueLane, keys.activeLanes(shard), [
      keys.lane(shard, tenant, urgency),
      laneId(tenant, urgency),
      keys.group,
      keys.bell(shard),
      ...encodeRequest(message),
    ]);
  }

  /** Picks and reads up to `count` entries of `shard` for consumer `pod` (0: only the counts). */
  async dispatch(shard: number, pod: string, count: number): Promise<Dispatched> {
    const { keys } = this;
    const reply = (await this.client.runScript(scripts.dispatch, keys.activeLanes(shard), [
      keys.group,
      pod,
      String(count),
      keys.lanePrefix(shard),
      keys.requestStreams[shard] as string,
      keys.bell(shard),
      ...this.policyArgs,
    ])) as [string, string, unknown[], unknown[]];
    const [bell, defaultLane, flatCounts, flatEntries] = reply;
    const counts: TenantLaneCounts[] = [];
    for (let index = 0; index + 2 < flatCounts.length; index += 3)
      counts.push({
        tenant: String(flatCounts[index]),
        waiting: Number(flatCounts[index + 1]),
        inflight: Number(flatCounts[index + 2]),
      });
    const entries: LaneEntry[] = [];
    for (let index = 0; index + 2 < flatEntries.length; index += 3)
      entries.push([
        String(flatEntries[index]),
        String(flatEntries[index + 1]),
        (flatEntries[index + 2] as unknown[]).map(String),
      ]);
    return { entries, counts, wakeAfter: entries.length > 0 ? undefined : [bell, defaultLane] };
  }

  /**
   * Blocks up to `blockMs` until the shard's default lane or its bell gets an entry after the ids
   * a dispatch returned (no group: nothing is delivered, this only wakes the reader). True when
   * something arrived, false when the time ran out.
   */
  async waitForWork(shard: number, after: [string, string], blockMs: number): Promise<boolean> {
    const { keys } = this;
    const woke = await this.client.connection.send("XREAD", [
      "COUNT",
      "1",
      "BLOCK",
      String(blockMs),
      "STREAMS",
      keys.bell(shard),
      keys.requestStreams[shard] as string,
      after[0],
      after[1],
    ]);
    return woke !== null && woke !== undefined;
  }

  /** Every stream of the shard's active lanes (for reclaim and trimming), default lane excluded. */
  async activeStreams(shard: number): Promise<string[]> {
    const ids = (await this.client.connection.send("SMEMBERS", [this.keys.activeLanes(shard)])) as unknown[];
    return ids.map((id) => `${this.keys.lanePrefix(shard)}${String(id)}`);
  }
}
