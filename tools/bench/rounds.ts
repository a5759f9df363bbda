import { cpuMsOf } from "./cpu.ts";
import { measured, type PostResult } from "./scenarios.ts";
import { runWrk, type WrkRun } from "./wrk.ts";

/** One thing measured in the rounds: its wrk run and the processes whose CPU it uses. */
export interface RoundTarget {
  run: WrkRun;
  processes: Record<string, number>;
}

export interface RoundsResult<Name extends string> {
  /** Each target's median round (by req/s). */
  medians: Record<Name, PostResult>;
  /** req/s of every round, in the order they ran: the spread says how noisy the machine was. */
  perRound: Record<Name, number>[];
  /** Every round's whole result (req/s, latency, CPU), in the order they ran. */
  samples: Record<Name, PostResult>[];
}

export const median = (results: PostResult[]): PostResult => {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] as PostResult;
};

/** The targets and rounds of an interleaved comparison, whatever the load and the target. */
export interface RoundsOptions<Name extends string, Target> {
  names: readonly Name[];
  targets: Record<Name, Target>;
  rounds: number;
  durationS: number;
  log: (line: string) => void;
  /** Names the comparison in the log. */
  label: string;
}

/**
 * Waits until the processes `pids` are idle together, at most `timeoutMs`: a target must not pay
 * for what the one measured before it still does after its load stopped (a garbage collection, a
 * backlog of spans to export). Idle is under 5% of one core over 250 ms above `baseline`, the
 * share of a core they use together when nobody calls them (measureIdle). Returns the ms waited.
 */
export async function settle(
  pids: number[],
  options: { timeoutMs?: number; baseline?: number } = {},
): Promise<number> {
  const { timeoutMs = 10_000, baseline = 0 } = options;
  const windowMs = 250;
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    const before = cpuMsOf(pids);
    await Bun.sleep(windowMs);
    if (cpuMsOf(pids) - before < windowMs * (0.05 + baseline)) break;
  }
  return Math.round(performance.now() - started);
}

/**
 * The share of one core the processes `pids` use together with no load offered: the least of
 * `windows` windows of `windowMs`. Idle services are not silent (each polls Redis a few times a
 * second: about 1.5% of a core for an ingress or a proxy on the bench machine), so 16 of them
 * would never look idle to a fixed threshold; settle waits for this much plus its margin. It first
 * lets them finish what a load before left them (settle with no baseline, within its deadline), so
 * a backlog of spans to export is not taken for idle.
 */
export async function measureIdle(
  pids: number[],
  options: { windowMs?: number; windows?: number; settleTimeoutMs?: number } = {},
): Promise<number> {
  const { windowMs = 1000, windows = 3, settleTimeoutMs = 10_000 } = options;
  await settle(pids, { timeoutMs: settleTimeoutMs });
  let least = Number.POSITIVE_INFINITY;
  for (let window = 0; window < windows; window++) {
    const before = cpuMsOf(pids);
    await Bun.sleep(windowMs);
    least = Math.min(least, (cpuMsOf(pids) - before) / windowMs);
  }
  return least;
}

/**
 * Round `round` (from 1) of `names`, rotated one step further each round (a → b → c, then
 * b → c → a, …): over a multiple of `names.length` rounds every target runs in every position
 * as often, so whatever favours a position (the one before it still busy, drift within a round)
 * favours none of them.
 */
export function roundOrder<Name>(names: readonly Name[], round: number): Name[] {
  const shift = (round - 1) % names.length;
  return [...names.slice(shift), ...names.slice(0, shift)];
}

/**
 * Measures every target `rounds` times, interleaved and rotated (roundOrder), each for
 * `durationS` after the machine settled (settle): a shared machine's speed drifts by tens of
 * percent within minutes, and interleaving puts every target through the same drift. Before the
 * rounds each target runs once unmeasured, for `warmupS` (JIT, connection pools, Redis's
 * allocations).
 */
export async function interleavedRounds<Name extends string>(
  options: RoundsOptions<Name, RoundTarget> & {
    /**
     * Seconds of unmeasured load on each target before the first round (default: 3, or durationS
     * when shorter). The JIT keeps compiling for about a minute under a new load, on threads whose
     * CPU the rounds count: a comparison that reads a few percent wants more.
     */
    warmupS?: number;
  },
): Promise<RoundsResult<Name>> {
  const { names, targets, rounds, durationS, log, label } = options;
  const results = Object.fromEntries(names.map((name) => [name, [] as PostResult[]])) as Record<
    Name,
    PostResult[]
  >;
  const warmupS = options.warmupS ?? Math.min(3, durationS);
  log(`${label}: warming up, ${warmupS} s each`);
  for (const name of names) await runWrk({ ...targets[name].run, durationS: warmupS });
  const samples: Record<Name, PostResult>[] = [];
  const pids = names.flatMap((name) => Object.values(targets[name].processes));
  const baseline = await measureIdle(pids);
  for (let round = 1; round <= rounds; round++) {
    const order = roundOrder(names, round);
    log(`${label}: round ${round} of ${rounds}: POST for ${durationS} s each, ${order.join(" → ")}`);
    for (const name of order) {
      const target = targets[name];
      await settle(pids, { baseline });
      results[name].push(await measured({ ...target.run, durationS }, target.processes));
    }
    samples.push(
      Object.fromEntries(names.map((name) => [name, results[name].at(-1) as PostResult])) as Record<
        Name,
        PostResult
      >,
    );
  }
  const perRound = samples.map(
    (sample) => Object.fromEntries(names.map((name) => [name, sample[name].rps])) as Record<Name, number>,
  );
  const medians = Object.fromEntries(names.map((name) => [name, median(results[name])])) as Record<
    Name,
    PostResult
  >;
  return { medians, perRound, samples };
}
