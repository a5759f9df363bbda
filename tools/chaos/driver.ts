import { runRequest } from "./client.ts";
import { between, mulberry32, type Random } from "./prng.ts";
import type { Profile } from "./profiles.ts";
import type { RequestRecord, Route } from "./records.ts";

export interface DriverOptions {
  profile: Profile;
  seed: number;
  ingressUrls: string[];
  timeoutMs: number;
  t0: number;
}

/** The mix of routes, by share. */
const routeMix: readonly [Route, number][] = [
  ["sync", 0.4],
  ["async", 0.25],
  ["proxy-post", 0.2],
  ["proxy-get", 0.15],
];
/** Share of requests with an Idempotency-Key, and share of those sent twice. */
const idempotentShare = 0.2;
const duplicateShare = 0.4;

/**
 * Open-loop load through both ingresses (requests start on a clock, whatever the answers do):
 * sync, async (then polled), /proxy/* POST and GET, a share with an Idempotency-Key and some of
 * those sent twice. Every request carries its own marker. Requests go only to ingresses marked up
 * (a load balancer that stopped routing to a stopping pod); in-flight requests are bounded.
 */
export class LoadDriver {
  readonly records: RequestRecord[] = [];
  /** Requests not sent because maxInFlight were in flight. */
  skipped = 0;
  private readonly up: boolean[];
  private readonly random: Random;
  private readonly inFlight = new Set<Promise<void>>();
  private turn = 0;
  private stopped = false;

  constructor(private readonly options: DriverOptions) {
    this.up = options.ingressUrls.map(() => true);
    this.random = mulberry32(options.seed ^ 0x5eed);
  }

  setIngressUp(index: number, up: boolean): void {
    this.up[index] = up;
  }

  /** Starts `rate` requests a second until `stop()` or the duration; resolves when it stops starting them. */
  async run(durationS: number): Promise<void> {
    const intervalMs = 1000 / this.options.profile.rate;
    const started = Date.now();
    let due = 0;
    while (!this.stopped && Date.now() - started < durationS * 1000) {
      const shouldHave = Math.floor((Date.now() - started) / intervalMs);
      for (; due < shouldHave && !this.stopped; due++) this.startOne();
      await Bun.sleep(10);
    }
  }

  /** Fires `size` async requests at once (the burst past MAX_QUEUE_DEPTH). */
  burst(size: number): void {
    for (let index = 0; index < size; index++) this.launch(this.newRecord("async", { burst: true }));
  }

  stop(): void {
    this.stopped = true;
  }

  /** Waits for every request and poll in flight (each is bounded by its own deadline). */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  private startOne(): void {
    if (this.inFlight.size >= this.options.profile.maxInFlight) {
      this.skipped++;
      return;
    }
    const route = this.pickRoute();
    const keyed = route !== "proxy-get" && this.random() < idempotentShare;
    const record = this.newRecord(route, {});
    if (keyed) record.idempotencyKey = `k-${record.marker}`;
    this.launch(record);
    if (keyed && this.random() < duplicateShare) {
      const delayMs = between(this.random, 0, 400);
      const duplicate = this.newRecord(route, { duplicateOf: record.seq, marker: record.marker });
      duplicate.idempotencyKey = record.idempotencyKey;
      this.launch(duplicate, delayMs);
    }
  }

  private pickRoute(): Route {
    let roll = this.random();
    for (const [route, share] of routeMix) {
      if (roll < share) return route;
      roll -= share;
    }
    return "sync";
  }

  private newRecord(route: Route, extra: Partial<RequestRecord>): RequestRecord {
    const seq = this.records.length;
    const record: RequestRecord = {
      seq,
      marker: `s${this.options.seed}-${seq}`,
      route,
      ingress: this.nextIngress(),
      sentAtMs: Date.now() - this.options.t0,
      ...extra,
    };
    this.records.push(record);
    return record;
  }

  private nextIngress(): number {
    const count = this.up.length;
    const start = this.turn++;
    for (let step = 0; step < count; step++) {
      const index = (start + step) % count;
      if (this.up[index]) return index;
    }
    return start % count;
  }

  /** Sends the request (after `delayMs`: a duplicate goes out a little later, to whichever ingress is up then). */
  private launch(record: RequestRecord, delayMs = 0): void {
    const send = async () => {
      if (delayMs > 0) {
        await Bun.sleep(delayMs);
        record.sentAtMs = Date.now() - this.options.t0;
        record.ingress = this.nextIngress();
      }
      await runRequest(record, this.options.ingressUrls[record.ingress] as string, {
        timeoutMs: this.options.timeoutMs,
        t0: this.options.t0,
        pollTargets: () => this.options.ingressUrls.filter((_, index) => this.up[index]),
      });
    };
    const done: Promise<void> = send().finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }
}
