import type { Logger } from "./logger.ts";

/**
 * Runs an async task every `intervalMs`, never overlapping itself, until `stop()`. Every
 * background loop of the services is one of these (or a loop with an AbortSignal), so each has
 * a way to stop and shutdown can wait for the run in progress.
 */
export class PeriodicTask {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly intervalMs: number,
    private readonly task: () => Promise<void> | void,
    private readonly logger: Logger,
  ) {}

  start(): this {
    this.stopped = false;
    this.schedule(0);
    return this;
  }

  /** Runs the task now (if not already running) and waits for it. */
  async runNow(): Promise<void> {
    if (this.running) return await this.running;
    this.running = (async () => {
      try {
        await this.task();
      } catch (error) {
        this.logger.warn(`${this.name} failed`, { error });
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      await this.runNow();
      this.schedule(this.intervalMs);
    }, delayMs);
  }
}
