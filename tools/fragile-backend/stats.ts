import type { Verdict } from "./model.ts";

/** Calls per epoch second kept (an hour): every map here is bounded. */
const keptSeconds = 3600;

/** What the fragile backend saw, for tests, the bench and people (GET /_admin/stats). */
export class BackendStats {
  calls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  readonly byKind: Record<Verdict["kind"] | "overflow", number> = {
    ok: 0,
    error: 0,
    throttled: 0,
    outage: 0,
    overflow: 0,
  };
  /** Calls that arrived in each epoch second. */
  private readonly perSecond = new Map<number, number>();

  arrived(now = Date.now()): void {
    this.calls++;
    const second = Math.floor(now / 1000);
    this.perSecond.set(second, (this.perSecond.get(second) ?? 0) + 1);
    if (this.perSecond.size > keptSeconds) {
      const oldest = this.perSecond.keys().next().value as number;
      this.perSecond.delete(oldest);
    }
  }

  answered(kind: Verdict["kind"] | "overflow"): void {
    this.byKind[kind]++;
  }

  toJSON() {
    return {
      calls: this.calls,
      concurrent: this.concurrent,
      maxConcurrent: this.maxConcurrent,
      byKind: this.byKind,
      perSecond: [...this.perSecond.entries()],
    };
  }
}
