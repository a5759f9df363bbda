import calculateSlot from "cluster-key-slot";

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
  }

  /** The first (with one shard: the only) request stream. */
  get requests(): string {
    return this.requestStreams[0] as string;
  }

  /** The reply stream read by one ingress instance. */
  replies(ingressId: string): string {
    return `${this.prefix}:replies:${ingressId}`;
  }

  /** Stored outcome of an async or idempotent request. */
  result(requestId: string): string {
    return `${this.prefix}:result:${requestId}`;
  }

  /** A result too large for the reply stream, until its ingress reads it (see inlineResultLimit). */
  replyBody(requestId: string): string {
    return `${this.prefix}:body:${requestId}`;
  }

  /** Idempotency key → request id and request hash. */
  idempotency(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }
}
