/**
 * A fixed number of terminals: slots of concurrency toward the backend. A reader reserves free
 * slots before it asks Redis for entries (so a pod never holds more requests than it can run),
 * a reserved slot becomes busy when its request starts, and it is given back the moment the
 * handler returns (before the reply is written), so a freed terminal is refilled at once.
 */
export class TerminalPool {
  private readonly free: number[];
  private reserved = 0;
  /** Free slots the current limit keeps out of use (TERMINALS − the adaptive limit; 0 when fixed). */
  private hidden = 0;
  private waiters: (() => void)[] = [];
  /**
   * 1 for each slot out of the free list (reserved or running). A slot given back twice (a bug in a
   * caller) would otherwise sit in the free list twice, and the pod would run more than TERMINALS
   * requests at once: the one thing the pool exists to prevent.
   */
  private readonly taken: Uint8Array;

  constructor(readonly size: number) {
    // Lowest index first, so a lightly loaded pod reports terminal 0 most of the time.
    this.free = Array.from({ length: size }, (_, index) => size - 1 - index);
    this.taken = new Uint8Array(size);
  }

  /** Slots a reader may reserve now: free ones within the limit. */
  get freeCount(): number {
    return Math.max(0, this.free.length - this.hidden);
  }

  /** Slots running or reserved for a read. */
  get inUse(): number {
    return this.size - this.free.length;
  }

  /** The limit now (TERMINALS unless CONCURRENCY_LIMIT=adaptive lowered it). */
  get limit(): number {
    return this.size - this.hidden;
  }

  /**
   * Uses at most `limit` slots (1…size) from now on: running ones finish, and no new one starts
   * while `limit` or more run. A raised limit wakes the readers at once.
   */
  setLimit(limit: number): void {
    const hidden = this.size - Math.min(this.size, Math.max(1, limit));
    const raised = hidden < this.hidden;
    this.hidden = hidden;
    if (raised) this.wake();
  }

  /** Terminals running a request now (reserved ones waiting for a read do not count). */
  get busyCount(): number {
    return this.size - this.free.length - this.reserved;
  }

  /** Takes up to `count` free slots for a read; each must be started or unreserved. */
  reserve(count: number): number[] {
    const take = Math.min(count, this.free.length - this.hidden);
    if (take <= 0) return [];
    const slots = this.free.splice(this.free.length - take).reverse();
    for (const slot of slots) this.taken[slot] = 1;
    this.reserved += slots.length;
    return slots;
  }

  /** A reserved slot now runs a request. */
  start(_slot: number): void {
    this.reserved--;
  }

  /** A reserved slot that got no request goes back. */
  unreserve(slot: number): void {
    this.reserved--;
    this.giveBack(slot);
  }

  /** A running slot finished. */
  release(slot: number): void {
    this.giveBack(slot);
  }

  /** Resolves when a slot is free (at once if one is), or when `signal` aborts. */
  async whenFree(signal: AbortSignal): Promise<void> {
    if (this.free.length > this.hidden || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Resolves true when no slot is running or reserved, false if `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.free.length < this.size) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return true;
  }

  private giveBack(slot: number): void {
    // Already free: ignore it rather than hold it twice (see `taken`).
    if (this.taken[slot] !== 1) return;
    this.taken[slot] = 0;
    this.free.push(slot);
    // Most reads return fewer entries than they reserved: the rest come back one by one, mostly
    // with nobody waiting, so this path allocates nothing then.
    if (this.waiters.length === 0) return;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
