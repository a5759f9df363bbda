import type { ChaosOptions } from "./args.ts";
import { type CheckResult, check } from "./checker/index.ts";
import { LoadDriver } from "./driver.ts";
import { FaultRunner, type InjectedFault } from "./faults.ts";
import { stackSettings } from "./profiles.ts";
import type { RequestRecord } from "./records.ts";
import { RssRecorder, type RssSeries } from "./rss.ts";
import { type PlannedFault, planFaults } from "./schedule.ts";
import { ChaosStack, chaosPrefix } from "./stack.ts";
import { buildTimeline, type Recovery, recoveries, type TimelinePoint } from "./timeline.ts";

export interface ChaosReport {
  startedAt: string;
  command: string;
  seed: number;
  profile: string;
  durationS: number;
  wallS: number;
  /** The redis-server's temporary directory (removed when the run ends). */
  redisDir: string;
  settings: typeof stackSettings & { rate: number; maxQueueDepth: number; burstSize: number };
  plan: PlannedFault[];
  faults: InjectedFault[];
  recoveries: Recovery[];
  skipped: number;
  /** How the burst's requests were answered: the 503s are MAX_QUEUE_DEPTH at work. */
  burstAnswers: Record<string, number>;
  backendCalls: number;
  check: CheckResult;
  timeline: TimelinePoint[];
  /** Every process the run started, by pid: all of them were gone when it ended. */
  processes: { name: string; kind: string; pid: number }[];
  /** Error-level log lines of the services (a few per service). */
  serviceErrors: Record<string, string[]>;
  interrupted: boolean;
}

/**
 * How long after the tool undid a fault it can still explain a second backend call. Only a request
 * in flight during the fault can be hit (its entry held by a killed pod, its reply write lost, its
 * claim gone stale while Redis was away); such a request's own span overlaps the fault. The margin
 * covers what outlasts the fault: a stale claim is taken over up to CLAIM_IDLE_MS later, and the
 * services take up to 2 s to reconnect and 2 s more to declare a hung server.
 */
const settleMs = stackSettings.claimIdleMs + 5_000;

/** One whole run: stack up, load and faults, drain, check, stack down (also on errors and Ctrl-C). */
export async function runChaos(
  options: ChaosOptions,
  interrupt: AbortSignal,
  onStack: (stack: ChaosStack) => void,
): Promise<ChaosReport> {
  const started = Date.now();
  const plan = planFaults(options.seed, options.profile, options.durationS);
  console.error(
    `[chaos] seed ${options.seed}, profile ${options.profile.name}, ${options.durationS} s, ${plan.length} faults planned`,
  );
  const stack = await ChaosStack.start(options.profile);
  onStack(stack);
  try {
    const t0 = Date.now();
    const driver = new LoadDriver({
      profile: options.profile,
      seed: options.seed,
      ingressUrls: stack.ingressUrls,
      timeoutMs: stackSettings.requestTimeoutMs,
      t0,
    });
    interrupt.addEventListener("abort", () => driver.stop(), { once: true });
    const faults = new FaultRunner({ stack, driver, profile: options.profile }, t0);
    faults.start(plan);
    const rssRecorder = new RssRecorder(() => stack.instances, t0);
    await driver.run(options.durationS);
    // The end of the run for memory: the end of the load (a drained process's heap says less).
    const rss = rssRecorder.stop();
    await faults.finish();
    console.error(`[chaos] load stopped; waiting for ${driver.inFlightCount} requests and polls in flight`);
    await driver.settle();
    const check = await runCheck(stack, driver.records, faults.injected, rss, minLifeMs(options.durationS));
    return {
      startedAt: new Date(started).toISOString(),
      command: `bun run chaos -- --profile ${options.profile.name} --seed ${options.seed} --duration ${options.durationS}`,
      seed: options.seed,
      profile: options.profile.name,
      durationS: options.durationS,
      redisDir: stack.redis.dir,
      wallS: Math.round((Date.now() - started) / 100) / 10,
      settings: {
        ...stackSettings,
        rate: options.profile.rate,
        maxQueueDepth: options.profile.maxQueueDepth,
        burstSize: options.profile.burstSize,
      },
      plan,
      faults: faults.injected,
      recoveries: recoveries(driver.records, faults.injected),
      skipped: driver.skipped,
      burstAnswers: countStatuses(driver.records.filter((record) => record.burst)),
      backendCalls: stack.upstream.total,
      check,
      timeline: buildTimeline(driver.records, options.durationS),
      processes: stack.instances.map(({ name, kind, pid }) => ({ name, kind, pid })),
      serviceErrors: Object.fromEntries(stack.errorLogs),
      interrupted: interrupt.aborted,
    };
  } finally {
    await stack.destroy();
  }
}

function countStatuses(records: RequestRecord[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const record of records) {
    const key = record.answer ? String(record.answer.status) : "no answer";
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * A process is judged on memory when it lived a minute under load (a third of a short run, and at
 * least 20 s): from the middle of such a life on, warm-up is over, and faults restart processes
 * too often in a long run for longer lives to be common.
 */
function minLifeMs(durationS: number): number {
  return Math.max(20_000, Math.min(60_000, (durationS * 1000) / 3));
}

async function runCheck(
  stack: ChaosStack,
  records: RequestRecord[],
  injected: InjectedFault[],
  rss: RssSeries[],
  minLife: number,
): Promise<CheckResult> {
  return await check({
    records,
    calls: stack.upstream.calls,
    unmarkedCalls: stack.upstream.unmarked,
    faults: injected,
    maxDeliveries: stackSettings.maxDeliveries,
    settleMs,
    redisUrl: stack.redis.url,
    prefix: chaosPrefix,
    liveIngresses: stackSettings.ingresses,
    rss,
    minLifeMs: minLife,
  });
}
