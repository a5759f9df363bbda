import type { LoadDriver } from "./driver.ts";
import type { Profile } from "./profiles.ts";
import { stackSettings } from "./profiles.ts";
import { type FaultKind, type PlannedFault, resourceOf } from "./schedule.ts";
import type { ChaosStack } from "./stack.ts";

/** A fault as it happened: when it began, when the tool had put things back (ms after the load started). */
export interface InjectedFault {
  seq: number;
  kind: FaultKind;
  target: number;
  plannedAtS: number;
  startMs: number;
  endMs: number;
  detail: string;
  /** Set when the tool itself failed to inject or undo the fault (the run is then invalid). */
  error?: string;
}

interface FaultContext {
  stack: ChaosStack;
  driver: LoadDriver;
  profile: Profile;
}

/** Each fault: do it, wait, undo it; resolves once the tool has put things back. Returns a detail line. */
const actions: Record<FaultKind, (context: FaultContext, fault: PlannedFault) => Promise<string>> = {
  "proxy-kill-same-name": async ({ stack }, { target }) => {
    await stack.restart("proxy", target, "SIGKILL");
    return `SIGKILL proxy ${target + 1}, restarted with the same POD_NAME`;
  },
  "proxy-kill-new-name": async ({ stack }, { target }) => {
    await stack.restart("proxy", target, "SIGKILL", true);
    return `SIGKILL proxy ${target + 1}, restarted with a new POD_NAME`;
  },
  "proxy-rolling-restart": async ({ stack }) => {
    for (let index = 0; index < stackSettings.proxies; index++)
      await stack.restart("proxy", index, "SIGTERM");
    return `SIGTERM each of ${stackSettings.proxies} proxies in turn, each restarted before the next`;
  },
  "ingress-restart": async ({ stack, driver }, { target }) => {
    driver.setIngressUp(target, false);
    try {
      await stack.restart("ingress", target, "SIGTERM");
    } finally {
      driver.setIngressUp(target, true);
    }
    return `ingress ${target + 1} taken out of rotation, SIGTERM, restarted on the same port`;
  },
  "redis-restart": async ({ stack }) => {
    await stack.restartRedis(stackSettings.redisDownMs);
    return `redis-server SIGKILL, down ${stackSettings.redisDownMs} ms, restarted from its AOF`;
  },
  "redis-pause": async ({ stack }) => {
    stack.redis.pause();
    try {
      await Bun.sleep(stackSettings.redisPauseMs);
    } finally {
      stack.redis.resume();
    }
    return `redis-server SIGSTOP for ${stackSettings.redisPauseMs} ms (past the services' 2 s watchdog), then SIGCONT`;
  },
  "backend-fail": async ({ stack }, { holdMs }) => {
    stack.upstream.setMode({ kind: "failing", share: 0.6 });
    await Bun.sleep(holdMs);
    stack.upstream.setMode({ kind: "ok" });
    return `backend answers 500 to 60% of calls for ${holdMs} ms`;
  },
  "backend-stall": async ({ stack }, { holdMs }) => {
    stack.upstream.setMode({ kind: "stalling", ms: 3_000 });
    await Bun.sleep(holdMs);
    stack.upstream.setMode({ kind: "ok" });
    return `backend holds every call 3000 ms, for ${holdMs} ms`;
  },
  burst: async ({ driver, profile }) => {
    driver.burst(profile.burstSize);
    await Bun.sleep(1_000);
    return `${profile.burstSize} async requests at once (MAX_QUEUE_DEPTH ${profile.maxQueueDepth})`;
  },
};

/**
 * Runs the plan against the clock: each fault at its offset after `t0`. Faults on the same
 * resource (the proxies, Redis, the backend) wait for each other, so a slow restart delays the
 * next one instead of overlapping it; the record says when each really happened.
 */
export class FaultRunner {
  readonly injected: InjectedFault[] = [];
  private readonly locks = new Map<string, Promise<void>>();
  private readonly running: Promise<void>[] = [];
  private readonly timers: ReturnType<typeof setTimeout>[] = [];

  constructor(
    private readonly context: FaultContext,
    private readonly t0: number,
  ) {}

  start(plan: PlannedFault[]): void {
    for (const fault of plan) {
      const delay = Math.max(0, this.t0 + fault.atS * 1000 - Date.now());
      this.timers.push(setTimeout(() => this.running.push(this.runLocked(fault)), delay));
    }
  }

  /** Cancels faults not yet started and waits for those running. */
  async finish(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    await Promise.allSettled(this.running);
    this.injected.sort((a, b) => a.seq - b.seq);
  }

  private runLocked(fault: PlannedFault): Promise<void> {
    const resource = resourceOf(fault.kind);
    const previous = this.locks.get(resource) ?? Promise.resolve();
    const run = previous.then(() => this.runOne(fault));
    this.locks.set(resource, run);
    return run;
  }

  private async runOne(fault: PlannedFault): Promise<void> {
    const startMs = Date.now() - this.t0;
    const record: InjectedFault = {
      seq: fault.seq,
      kind: fault.kind,
      target: fault.target,
      plannedAtS: fault.atS,
      startMs,
      endMs: startMs,
      detail: "",
    };
    try {
      record.detail = await actions[fault.kind](this.context, fault);
    } catch (error) {
      record.error = error instanceof Error ? error.message.slice(0, 500) : String(error);
    }
    record.endMs = Date.now() - this.t0;
    this.injected.push(record);
    console.error(
      `[chaos] ${(record.startMs / 1000).toFixed(1)} s ${fault.kind}: ${record.error ?? record.detail}`,
    );
  }
}
