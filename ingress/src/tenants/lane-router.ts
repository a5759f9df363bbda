import {
  defaultTenant,
  defaultUrgency,
  type LaneQueue,
  type RequestMessage,
  type StreamKeys,
} from "@rsd/shared";
import { HttpError, UnavailableError } from "../http/errors.ts";

/** 429: this tenant has more requests waiting than TENANT_MAX_QUEUE_DEPTH; the others carry on. */
export class TenantQuotaError extends HttpError {
  constructor(tenant: string, waiting: number, retryAfterS: number) {
    super(429, `tenant ${tenant} has ${waiting} requests waiting (TENANT_MAX_QUEUE_DEPTH); retry later`, {
      "retry-after": String(retryAfterS),
    });
  }
}

/** A request the lanes refuse: the answer, and the reason rsd_ingress_shed_total counts it under. */
export interface LaneRefusal {
  error: HttpError;
  /** 503 `depth` (MAX_QUEUE_DEPTH over every lane), 503 `tenants` (TENANT_MAX_ACTIVE), 429 `tenant_depth`. */
  reason: "depth" | "tenants" | "tenant_depth";
}

export interface LaneRouterOptions {
  lanes: LaneQueue;
  keys: StreamKeys;
  /** TENANT_MAX_QUEUE_DEPTH (0 = off). */
  tenantMaxQueueDepth: number;
  /** MAX_QUEUE_DEPTH (0 = off): with lanes it also counts the requests waiting outside the shard streams. */
  maxQueueDepth: number;
  /** TENANT_MAX_ACTIVE (0 = off): tenants other than `default` with lanes at once. */
  tenantMaxActive: number;
}

/**
 * The ingress side of TENANT_LANES: which lane a request goes to, and the quotas read from the
 * lanes' counts (refreshed by a periodic task, never per request). A request of (`default`,
 * u=3) goes to the shard stream as before; any other to its lane, through the enqueue script.
 */
export class LaneRouter {
  /** Counts older than this are not trusted (the poll is failing): no quota is enforced on them. */
  private static readonly staleAfterMs = 2000;
  private static readonly admittedGraceMs = 1000;
  readonly retryAfterS = 1;
  private waiting = new Map<string, number>();
  private totalWaiting = 0;
  private readAt = 0;
  /** Tenants (not `default`) with lanes at the last poll: waiting, running or not yet deleted. */
  private active = new Set<string>();
  /**
   * Tenants admitted lately, with when: a burst of new tenants between two polls is counted too.
   * At most TENANT_MAX_ACTIVE entries. Only a poll that began `admittedGraceMs` after an entry's
   * admission removes it (by then its request reached its lane, so the poll saw it), and a
   * failing poll removes none: the cap stays closed rather than open.
   */
  private readonly admitted = new Map<string, number>();

  constructor(private readonly options: LaneRouterOptions) {}

  /** Whether the quotas need the lanes' counts at all (the periodic task runs only then). */
  get polling(): boolean {
    const { tenantMaxQueueDepth, maxQueueDepth, tenantMaxActive } = this.options;
    return tenantMaxQueueDepth > 0 || maxQueueDepth > 0 || tenantMaxActive > 0;
  }

  /**
   * The refusal for a new request of `tenant` (undefined = `default`), or undefined when it may
   * go in, in which case it is counted as admitted at once: check and count are one synchronous
   * step, so concurrent requests of new tenants cannot all pass the cap before any is counted.
   */
  admit(tenant: string | undefined, now: number): LaneRefusal | undefined {
    const capped = tenant === undefined ? undefined : this.capRefusal(tenant);
    if (capped) return capped;
    const refusal = this.quotaRefusal(tenant, now);
    if (refusal === undefined && tenant !== undefined && this.options.tenantMaxActive > 0)
      this.admitted.set(tenant, now);
    return refusal;
  }

  /** TENANT_MAX_ACTIVE: a tenant already active always passes; a new one only below the cap. */
  private capRefusal(tenant: string): LaneRefusal | undefined {
    const cap = this.options.tenantMaxActive;
    if (cap === 0 || this.active.has(tenant) || this.admitted.has(tenant)) return undefined;
    let count = this.active.size;
    for (const name of this.admitted.keys()) if (!this.active.has(name)) count++;
    // With stale counts (the poll failing) nothing says a tenant went idle: the cap stays closed.
    if (count < cap) return undefined;
    const error = new UnavailableError(
      `overloaded: ${count} tenants have requests waiting or running (TENANT_MAX_ACTIVE); retry later`,
      this.retryAfterS,
    );
    return { error, reason: "tenants" };
  }

  private quotaRefusal(tenant: string | undefined, now: number): LaneRefusal | undefined {
    if (now - this.readAt > LaneRouter.staleAfterMs) return undefined;
    const { maxQueueDepth, tenantMaxQueueDepth } = this.options;
    if (maxQueueDepth > 0 && this.totalWaiting > maxQueueDepth) {
      const error = new UnavailableError(
        `overloaded: ${this.totalWaiting} requests are waiting; retry later`,
        this.retryAfterS,
      );
      return { error, reason: "depth" };
    }
    const name = tenant ?? defaultTenant;
    const waiting = this.waiting.get(name) ?? 0;
    if (tenantMaxQueueDepth > 0 && waiting > tenantMaxQueueDepth)
      return { error: new TenantQuotaError(name, waiting, this.retryAfterS), reason: "tenant_depth" };
    return undefined;
  }

  /** Puts `message` on its lane of the shard of `stream`; the default lane is the caller's (false). */
  enqueue(stream: string, message: RequestMessage, urgency: number): Promise<string> | false {
    if (message.tenant === undefined && urgency === defaultUrgency) return false;
    const shard = Math.max(0, this.options.keys.requestStreams.indexOf(stream));
    return this.options.lanes.enqueue(shard, message, urgency);
  }

  /**
   * The tenants with requests waiting, most first (at most `limit`), from the last poll; undefined
   * while that poll is stale. For the console: no Redis round trip of its own.
   */
  waitingByTenant(now: number, limit = 20): { tenant: string; waiting: number }[] | undefined {
    if (now - this.readAt > LaneRouter.staleAfterMs) return undefined;
    return [...this.waiting]
      .filter(([, waiting]) => waiting > 0)
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([tenant, waiting]) => ({ tenant, waiting }));
  }

  /** Reads every shard's per-tenant counts, over `counter`'s connection. */
  async refresh(counter: LaneQueue): Promise<void> {
    const startedAt = Date.now();
    const waiting = new Map<string, number>();
    const active = new Set<string>();
    let total = 0;
    for (let shard = 0; shard < this.options.keys.shards; shard++) {
      for (const counts of await counter.counts(shard)) {
        waiting.set(counts.tenant, (waiting.get(counts.tenant) ?? 0) + counts.waiting);
        total += counts.waiting;
        if (counts.tenant !== defaultTenant) active.add(counts.tenant);
      }
    }
    this.waiting = waiting;
    this.totalWaiting = total;
    this.active = active;
    // Admitted well before this poll began: its lanes, if it still has any, were just read.
    for (const [tenant, at] of this.admitted)
      if (at < startedAt - LaneRouter.admittedGraceMs) this.admitted.delete(tenant);
    this.readAt = Date.now();
  }
}
