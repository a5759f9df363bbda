import type { ReplyMessage } from "@rsd/shared";

/** How a wait for a reply ended. */
export type WaitOutcome =
  | { kind: "reply"; reply: ReplyMessage }
  | { kind: "timeout" }
  | { kind: "shutdown" }
  /** The request never made it onto the stream (Redis refused or dropped the XADD). */
  | { kind: "unavailable" };

export interface PendingRepliesOptions {
  /** Width of a timer-wheel slot: a wait ends at most this late. */
  tickMs?: number;
  /** The clock deadlines are compared with (epoch ms); tests pass their own. */
  now?: () => number;
}

interface Waiter {
  resolve: (outcome: WaitOutcome) => void;
  slot: number;
}

/**
 * The HTTP handlers waiting for replies, by request id, with their deadlines kept in a timer
 * wheel: one periodic sweep answers every expired wait, instead of one timer per request.
 * Deadlines are bucketed into `tickMs` slots, so a wait ends at most one tick late.
 */
export class PendingReplies {
  private readonly waiters = new Map<string, Waiter>();
  private readonly slots = new Map<number, Set<string>>();
  private sweptUpTo: number;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly tickMs: number;
  private readonly now: () => number;

  constructor(options: PendingRepliesOptions = {}) {
    this.tickMs = options.tickMs ?? 10;
    // Read Date.now at each call, not once: a test that moves the process clock moves the sweep too.
    this.now = options.now ?? (() => Date.now());
    this.sweptUpTo = this.slotOf(this.now()) - 1;
  }

  get size(): number {
    return this.waiters.size;
  }

  start(): this {
    this.timer ??= setInterval(() => this.sweep(this.now()), this.tickMs);
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Registers a wait; the promise settles with the reply, at the deadline, or at shutdown. */
  wait(id: string, deadline: number): Promise<WaitOutcome> {
    return new Promise((resolve) => {
      // Never put a deadline into a slot the sweep has already passed: it would never fire.
      const slot = Math.max(this.slotOf(deadline), this.sweptUpTo + 1);
      this.waiters.set(id, { resolve, slot });
      let ids = this.slots.get(slot);
      if (!ids) {
        ids = new Set();
        this.slots.set(slot, ids);
      }
      ids.add(id);
    });
  }

  /** Whether someone still waits for request `id`. */
  has(id: string): boolean {
    return this.waiters.has(id);
  }

  /** Delivers a reply; false when nobody waits for it (a duplicate, or its deadline passed). */
  deliver(reply: ReplyMessage): boolean {
    return this.settle(reply.id, { kind: "reply", reply });
  }

  /** Ends a wait because its request never made it onto the stream. */
  unavailable(id: string): void {
    this.settle(id, { kind: "unavailable" });
  }

  /** Ends every remaining wait with `shutdown`. */
  abandonAll(): void {
    for (const id of [...this.waiters.keys()]) this.settle(id, { kind: "shutdown" });
  }

  /** Ends the waits whose deadline slot is at or before `now`. */
  sweep(now: number): void {
    const upTo = this.slotOf(now) - 1;
    for (let slot = this.sweptUpTo + 1; slot <= upTo; slot++) {
      const ids = this.slots.get(slot);
      if (!ids) continue;
      this.slots.delete(slot);
      for (const id of ids) this.settle(id, { kind: "timeout" });
    }
    this.sweptUpTo = Math.max(this.sweptUpTo, upTo);
  }

  private settle(id: string, outcome: WaitOutcome): boolean {
    const waiter = this.waiters.get(id);
    if (!waiter) return false;
    this.waiters.delete(id);
    this.slots.get(waiter.slot)?.delete(id);
    waiter.resolve(outcome);
    return true;
  }

  private slotOf(time: number): number {
    return Math.ceil(time / this.tickMs);
  }
}
