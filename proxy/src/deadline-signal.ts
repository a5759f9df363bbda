/**
 * A request's deadline as an AbortSignal, made only if the handler asks for it. A handler that
 * finishes without looking at its signal (the simulator, a cache hit) costs no AbortController and
 * no timer; one that does gets a timer that is cleared when it returns. AbortSignal.timeout()
 * instead would leave one live timer per request until its deadline (30 s by default), hundreds
 * of thousands of them under load.
 */
export class DeadlineSignal {
  private controller: AbortController | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly deadline: number) {}

  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      this.timer = setTimeout(
        () => controller.abort(new DOMException("the request's deadline passed", "TimeoutError")),
        Math.max(1, this.deadline - Date.now()),
      );
    }
    return this.controller.signal;
  }

  /** True once the deadline aborted a signal the handler asked for. */
  get aborted(): boolean {
    return this.controller?.signal.aborted ?? false;
  }

  /** The handler returned: its timer is not needed any more. */
  dispose(): void {
    // Most handlers never asked: no timer, and no call into the runtime to clear nothing.
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}
