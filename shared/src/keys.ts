/**
 * Every Redis key name of a deployment, built in one place (BullMQ's queue-keys idea): nothing
 * else in the code base concatenates key strings. All keys share `<prefix>:` so several
 * deployments or test runs can live in one Redis.
 */
export class StreamKeys {
  /** The consumer group every proxy reads the request stream through. */
  readonly group = "proxies";
  readonly requests: string;
  readonly dead: string;
  readonly fleet: string;

  constructor(readonly prefix: string) {
    this.requests = `${prefix}:requests`;
    this.dead = `${prefix}:dead`;
    this.fleet = `${prefix}:fleet`;
  }

  /** The reply stream read by one ingress instance. */
  replies(ingressId: string): string {
    return `${this.prefix}:replies:${ingressId}`;
  }

  /** Stored outcome of an async or idempotent request. */
  result(requestId: string): string {
    return `${this.prefix}:result:${requestId}`;
  }

  /** Idempotency key → request id and request hash. */
  idempotency(key: string): string {
    return `${this.prefix}:idem:${key}`;
  }
}
