import { measured, type PostResult } from "./scenarios.ts";
import type { WrkRun } from "./wrk.ts";

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
}

export const median = (results: PostResult[]): PostResult => {
  const sorted = [...results].sort((a, b) => a.rps - b.rps);
  return sorted[Math.floor(sorted.length / 2)] as PostResult;
};

/**
 * Measures every target `rounds` times, interleaved (a → b → c, a → b → c, …), each for
 * `durationS`: a shared machine's speed drifts by tens of percent within minutes, and
 * interleaving puts every target through the same drift.
 */
export async function interleavedRounds<Name extends string>(options: {
  names: readonly Name[];
  targets: Record<Name, RoundTarget>;
  rounds: number;
  durationS: number;
  log: (line: string) => void;
  label: string;
}): Promise<RoundsResult<Name>> {
  const { names, targets, rounds, durationS, log, label } = options;
  const results = Object.fromEntries(names.map((name) => [name, [] as PostResult[]])) as Record<
    Name,
    PostResult[]
  >;
  const perRound: Record<Name, number>[] = [];
  for (let round = 1; round <= rounds; round++) {
    log(`${label}: round ${round} of ${rounds}: POST for ${durationS} s each, ${names.join(" → ")}`);
    for (const name of names) {
      const target = targets[name];
      results[name].push(await measured({ ...target.run, durationS }, target.processes));
    }
    perRound.push(
      Object.fromEntries(names.map((name) => [name, results[name].at(-1)?.rps ?? 0])) as Record<Name, number>,
    );
  }
  const medians = Object.fromEntries(names.map((name) => [name, median(results[name])])) as Record<
    Name,
    PostResult
  >;
  return { medians, perRound };
}
