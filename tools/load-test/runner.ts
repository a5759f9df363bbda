import type { Mode } from "./args.ts";
import type { Outcome } from "./outcome.ts";
import { Recorder } from "./stats.ts";

export interface RunPlan {
  mode: Mode;
  count: number | undefined;
  durationS: number | undefined;
  warmupS: number;
  concurrency: number;
  rate: number | undefined;
}

export interface RunHandle {
  recorder: Recorder;
  /** Resolves when every request has its answer. */
  done: Promise<void>;
  /** Stops issuing new requests (Ctrl-C); those in flight still finish and are counted. */
  stop(): void;
}

/**
 * Starts the load. Closed model (sequential, concurrent): N connections each send their next
 * request the moment the previous answered, so the server's speed sets the pace. Open model
 * (rate): requests are due on a clock whatever the server does, and each latency runs from the
 * *due* time, so a stalled server — or a stalled client — cannot hide its queueing (no
 * coordinated omission).
 */
export function startRun(plan: RunPlan, send: () => Promise<Outcome>): RunHandle {
  const startedAt = performance.now();
  const measureFrom = startedAt + plan.warmupS * 1000;
  const stopIssuingAt = plan.durationS === undefined ? Infinity : measureFrom + plan.durationS * 1000;
  const recorder = new Recorder(startedAt, measureFrom, stopIssuingAt, sliceMsFor(plan));
  const state = { stopped: false, remaining: plan.count ?? Infinity };
  const limits = { measureFrom, stopIssuingAt, state };
  const done =
    plan.mode === "rate"
      ? openLoop(plan.rate!, plan.concurrency, startedAt, limits, recorder, send)
      : closedLoop(plan.mode === "sequential" ? 1 : plan.concurrency, limits, recorder, send);
  return {
    recorder,
    done,
    stop: () => {
      state.stopped = true;
      recorder.endWindow(performance.now());
    },
  };
}

/** Timeline resolution: a few dozen points or more for a short run, bounded memory for a long one. */
function sliceMsFor(plan: RunPlan): number {
  const plannedS =
    plan.durationS !== undefined
      ? plan.warmupS + plan.durationS
      : plan.mode === "rate" && plan.count !== undefined
        ? plan.warmupS + plan.count / plan.rate!
        : undefined;
  if (plannedS === undefined) return 1000;
  if (plannedS <= 15) return 250;
  return plannedS <= 300 ? 1000 : 5000;
}

interface Limits {
  measureFrom: number;
  stopIssuingAt: number;
  state: { stopped: boolean; remaining: number };
}

/** Whether a request due at `at` may still be issued; takes one from the count when it is measured. */
function mayIssue(at: number, limits: Limits): boolean {
  if (limits.state.stopped || at >= limits.stopIssuingAt) return false;
  if (at < limits.measureFrom) return true;
  if (limits.state.remaining <= 0) return false;
  limits.state.remaining -= 1;
  return true;
}

async function closedLoop(
  connections: number,
  limits: Limits,
  recorder: Recorder,
  send: () => Promise<Outcome>,
) {
  const connection = async () => {
    for (;;) {
      const at = performance.now();
      if (!mayIssue(at, limits)) return;
      recorder.begin(at);
      const outcome = await send();
      recorder.complete(at, performance.now(), outcome);
    }
  };
  await Promise.all(Array.from({ length: connections }, connection));
}

async function openLoop(
  rate: number,
  maxInFlight: number,
  startedAt: number,
  limits: Limits,
  recorder: Recorder,
  send: () => Promise<Outcome>,
) {
  const intervalMs = 1000 / rate;
  const slots = new Slots(maxInFlight);
  const inFlight = new Set<Promise<void>>();
  const issue = async (due: number) => {
    // Waiting for a free slot is part of the latency: the clock started at `due`.
    await slots.acquire();
    recorder.begin(due);
    recorder.lag(due, performance.now());
    try {
      const outcome = await send();
      recorder.complete(due, performance.now(), outcome);
    } finally {
      slots.release();
    }
  };
  for (let index = 0; ; ) {
    const now = performance.now();
    // Issue everything already due (a late timer or a busy event loop must not thin the schedule),
    // in bounded batches so responses still get processed between them.
    let batch = 0;
    while (batch < 1000) {
      const due = startedAt + index * intervalMs;
      if (due > now) break;
      if (!mayIssue(due, limits)) {
        await Promise.all(inFlight);
        return;
      }
      const request = issue(due);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
      index += 1;
      batch += 1;
    }
    const nextDue = startedAt + index * intervalMs;
    await Bun.sleep(Math.max(0, nextDue - performance.now()));
  }
}

/** A counting semaphore: at most `size` holders, the rest wait in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
