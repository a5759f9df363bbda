/**
 * A fixed number of terminals: slots of concurrency toward the backend. A slot is taken before
 * a request runs and given back the moment its handler returns (before its reply is written),
 * so a freed terminal is refilled at once.
 */
export class TerminalPool {
  private readonly free: number[];
  private waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    // Lowest index first, so a lightly loaded pod reports terminal 0 most of the time.
    this.free = Array.from({ length: size }, (_, index) => size - 1 - index);
  }

  get freeCount(): number {
    return this.free.length;
  }

  get busyCount(): number {
    return this.size - this.free.length;
  }

  /** A free slot index, or undefined when all are busy. */
  acquire(): number | undefined {
    return this.free.pop();
  }

  release(slot: number): void {
    this.free.push(slot);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves when a slot is free (at once if one is), or when `signal` aborts. */
  async whenFree(signal: AbortSignal): Promise<void> {
    if (this.free.length > 0 || signal.aborted) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Resolves true when every slot is free, false if `timeoutMs` passes first. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.busyCount > 0) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), left);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        controller.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      clearTimeout(timer);
    }
    return true;
  }
}
