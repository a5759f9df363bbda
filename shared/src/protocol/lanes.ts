import { commands, type RedisClient } from "./client/redis-client.ts";
import { isErrorReply } from "./client/replies.ts";
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
  /** When nothing was read, or terminals were held: where the wait starts (bell, default lane). */
  wakeAfter: [bell: string, defaultLane: string] | undefined;
  /** Free terminals kept back for an anticipated request (dispatch with `hold`). */
  held: number;
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
  private readonly limits: string[];
  private readonly weightArgs: string[];

  constructor(options: { client: RedisClient; keys: StreamKeys; policy?: DispatchPolicy }) {
    this.client = options.client;
    this.keys = options.keys;
    const policy = options.policy ?? { weights: {}, maxInflight: 0, agingMs: 1000 };
    const weights = Object.entries(policy.weights);
    this.limits = [String(policy.maxInflight), String(policy.agingMs)];
    this.weightArgs = [
      String(weights.length),
      ...weights.flatMap(([tenant, weight]) => [tenant, String(weight)]),
    ];
  }

  /**
   * Adds `message` to its lane of `shard` (not the default lane: that is RequestQueue.enqueue),
   * in one MULTI with what makes the lane visible: its group (from 0; BUSYGROUP when it exists,
   * harmless inside EXEC), its id in the active set, a touch of the bell for idle readers. Atomic
   * against the dispatch script, which deletes drained lanes: a lane with work is always in the
   * set. A transaction, not a script: the ingress's Redis user may not run scripts. One slot.
   */
  async enqueue(shard: number, message: RequestMessage, urgency: number): Promise<string> {
    const { keys } = this;
    const tenant = scopedTenant(message.tenant);
    const lane = keys.lane(shard, tenant, urgency);
    const results = await this.client.transaction([
      ["XGROUP", ["CREATE", lane, keys.group, "0", "MKSTREAM"]],
      commands.xadd(lane, encodeRequest(message)),
      ["SADD", [keys.activeLanes(shard), laneId(tenant, urgency)]],
      commands.xadd(keys.bell(shard), ["b", "1"], { maxLength: 1 }),
    ]);
    const added = results[1];
    if (added instanceof Error || isErrorReply(added)) throw added;
    return String(added);
  }

  /**
   * Every tenant's counts in `shard` (waiting: the lanes' group lag; in flight: their pending),
   * read lane by lane without a script: for the ingress's quotas and the proxies' gauges.
   */
  async counts(shard: number): Promise<TenantLaneCounts[]> {
    const { keys } = this;
    const ids = (await this.client.connection.send("SMEMBERS", [keys.activeLanes(shard)])) as unknown[];
    const lanes: [string, string][] = [["default", keys.requestStreams[shard] as string]];
    for (const id of ids.map(String))
      lanes.push([id.slice(0, id.lastIndexOf(":")), `${keys.lanePrefix(shard)}${id}`]);
    const totals = new Map<string, TenantLaneCounts>();
    for (const [tenant, stream] of lanes) {
      const groups = await this.client.xinfoGroups(stream).catch(() => []);
      const group = groups.find((candidate) => candidate.name === keys.group);
      if (!group) continue;
      const total = totals.get(tenant) ?? { tenant, waiting: 0, inflight: 0 };
      // Lag unknown (entries deleted inside the unread range): not counted rather than guessed.
      total.waiting += typeof group.lag === "number" ? group.lag : 0;
      total.inflight += Number(group.pending ?? 0);
      totals.set(tenant, total);
    }
    return [...totals.values()].filter((total) => total.waiting > 0 || total.inflight > 0);
  }

  /**
   * Picks and reads up to `count` entries of `shard` for consumer `pod` (0: only the counts).
   * `hold`: keep terminals for anticipated requests of under-share tenants (see dispatch.lua).
   */
  async dispatch(shard: number, pod: string, count: number, hold = false): Promise<Dispatched> {
    const { keys } = this;
    const reply = (await this.client.runScript(scripts.dispatch, keys.activeLanes(shard), [
      keys.group,
      pod,
      String(count),
      keys.lanePrefix(shard),
      keys.requestStreams[shard] as string,
      keys.bell(shard),
      ...this.limits,
      hold ? "1" : "0",
      ...this.weightArgs,
    ])) as [string, string, unknown[], unknown[], unknown];
    const [bell, defaultLane, flatCounts, flatEntries, heldReply] = reply;
    const held = Number(heldReply ?? 0);
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
    const waits = count > 0 && (entries.length === 0 || held > 0);
    return { entries, counts, held, wakeAfter: waits ? [bell, defaultLane] : undefined };
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
