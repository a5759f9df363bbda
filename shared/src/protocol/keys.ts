import calculateSlot from "cluster-key-slot";
import { defaultUrgency, isUrgency, scopedTenant } from "./tenant.ts";

const slotCount = 16_384;

/**
 * The hash tag of shard `index` of `shards`: the first `<index>.<n>` whose slot falls in the
 * index-th equal slice of the slot range, so the shards spread over a cluster's masters (which
 * own contiguous slot ranges) instead of piling onto whichever node CRC16 happens to favour.
 */
export function shardTag(index: number, shards: number): string {
  const low = Math.floor((index * slotCount) / shards);
  const high = Math.floor(((index + 1) * slotCount) / shards);
  for (let n = 0; ; n++) {
    const tag = `${index}.${n}`;
    const slot = calculateSlot(tag);
    if (slot >= low && slot < high) return tag;
  }
}

/**
 * Every Redis key name of a deployment, built in one place (BullMQ's queue-keys idea): nothing
 * else in the code base concatenates key strings. All keys share `<prefix>:` so several
 * deployments or test runs can live in one Redis. Every operation touches one key at a time (or
 * keys of one slot), so each key may live on a different Redis Cluster node.
 */
export class StreamKeys {
  /** The consumer group every proxy reads the request streams through. */
  readonly group = "proxies";
  /** One request stream per shard; with one shard it is plain `<prefix>:requests`. */
  readonly requestStreams: readonly string[];
  readonly dead: string;
  readonly fleet: string;
  /** The fleet-wide rate limit toward the backend (GCRA state, RATE_LIMIT_RPS). */
  readonly rateLimit: string;
  /** Set while the backend asked the fleet to pause (429 / 503 + Retry-After, BACKEND_PAUSE). */
  readonly backendPause: string;
  /** The fleet's circuit breaker toward the backend (BREAKER). */
  readonly breaker: string;
  /**
   * The hash tag of each shard's lane keys (TENANT_LANES): the shard tag, or with one shard the
   * request stream's own name (`{rsd:requests}` hashes like `rsd:requests`), so a shard's lanes,
   * its stream, its active set and its bell share one slot and one script can touch them all.
   */
  readonly laneTags: readonly string[];

  constructor(
    readonly prefix: string,
    readonly shards = 1,
  ) {
    this.requestStreams =
      shards === 1
        ? [`${prefix}:requests`]
        : Array.from({ length: shards }, (_, index) => `${prefix}:requests:{${shardTag(index, shards)}}`);
    this.dead = `${prefix}:dead`;
    this.fleet = `${prefix}:fleet`;
    this.rateLimit = `${prefix}:ratelimit`;
    this.backendPause = `${prefix}:pause`;
    this.breaker = `${prefix}:breaker`;
    this.laneTags =
      shards === 1
        ? [`${prefix}:requests`]
        : Array.from({ length: shards }, (_, index) => shardTag(index, shards));
  }

  /**
   * The lane of (tenant, urgency) in `shard`: (`default`, 3) is the shard's request stream itself,
   * any other `<prefix>:lane:{<tag>}:<tenant>:<urgency>` (its id in the active set is the part
   * after lanePrefix). Tenant names have no `:`, so the id splits back unambiguously.
   */
  lane(shard: number, tenant: string | undefined, urgency: number): string {
    const scoped = scopedTenant(tenant);
    if (scoped === undefined && urgency === defaultUrgency) return this.requestStreams[shard] as string;
    return `${this.lanePrefix(shard)}${laneId(scoped, urgency)}`;
  }

  /**
   * The urgency of the lane `stream` (the number its key ends with); a shard's request stream,
   * and anything that is no lane key, has the normal urgency.
   */
  urgencyOf(stream: string): number {
    if (!stream.startsWith(`${this.prefix}:lane:{`)) return defaultUrgency;
    const urgency = Number(stream.slice(stream.lastIndexOf(":") + 1));
    return isUrgency(urgency) ? urgency : defaultUrgency;
  }

  /** What every non-default lane key of `shard` starts with. */
  lanePrefix(shard: number): string {
    return `${this.prefix}:lane:{${this.laneTags[shard]}}:`;
  }

  /** The set of `shard`'s lanes that may have work (`<tenant>:<urgency>` ids). */
  activeLanes(shard: number): string {
    return `${this.prefix}:lanes:{${this.laneTags[shard]}}`;
  }

  /** A one-entry stream the lane enqueue script writes to, so idle readers of `shard` wake up. */
  bell(shard: number): string {
    return `${this.prefix}:bell:{${this.laneTags[shard]}}`;
  }

  /** The first (with one shard: the only) request stream. */
  get requests(): string {
    return this.requestStreams[0] as string;
  }

  /** The reply stream read by one ingress instance. */
  replies(ingressId: string): string {
    return `${this.prefix}:replies:${ingressId}`;
  }

  /**
   * Stored outcome of an async or idempotent request. Another tenant's result lives under another
   * name (`tresult:<tenant>:<id>`), so knowing the id is not enough to read it; `default` keeps
   * the name it had before tenants. Tenant names have no `:`, so no two (tenant, id) pairs meet.
   */
  result(requestId: string, tenant?: string): string {
    const scoped = scopedTenant(tenant);
    return scoped === undefined
      ? `${this.prefix}:result:${requestId}`
      : `${this.prefix}:tresult:${scoped}:${requestId}`;
  }

  /** A result too large for the reply stream, until its ingress reads it (see inlineResultLimit). */
  replyBody(requestId: string): string {
    return `${this.prefix}:body:${requestId}`;
  }

  /**
   * Idempotency key → request id and request hash, per tenant (`tidem:<tenant>:<key>`; `default`
   * keeps `idem:<key>`): two tenants using the same key never meet. A key may contain `:`, a
   * tenant name may not, so the tenant always ends at the first `:` after `tidem:`.
   */
  idempotency(key: string, tenant?: string): string {
    const scoped = scopedTenant(tenant);
    return scoped === undefined ? `${this.prefix}:idem:${key}` : `${this.prefix}:tidem:${scoped}:${key}`;
  }
}

/** A lane's id in its shard's active set: `<tenant>:<urgency>` (`default` when undefined). */
export function laneId(tenant: string | undefined, urgency: number): string {
  return `${tenant ?? "default"}:${urgency}`;
}
