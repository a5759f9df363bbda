import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCpuSample, usPerRequestOf } from "./cpu.ts";
import { runLoadTester } from "./load-tester.ts";
import { measureIdle, type RoundsOptions, roundOrder, settle } from "./rounds.ts";

/** What one load-tester measurement found: CPU µs per answered request by process, and the load's figures. */
export interface LoadSample {
  /** Per process named in the target (e.g. ingress, proxy), and `gateway` = their sum. */
  usPerRequest: Record<string, number>;
  answered: number;
  failed: number;
  /** Successful answers per second over the measured window. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadTarget {
  ingressUrl: string;
  /** The gateway's processes whose CPU is counted (not Redis, not the load tester). */
  processes: Record<string, number>;
}

/**
 * The same load (the project's load tester with `args`, for `durationS` each) on every target, in
 * interleaved, rotated rounds, each once all the targets are idle: what each costs is then the CPU
 * its processes use per answered request, beside what the load tester saw.
 */
export async function loadTesterRounds<Name extends string>(
  options: RoundsOptions<Name, LoadTarget> & {
    /** The load tester's arguments, --url left out. */
    args: string[];
    /** What the load is, for the log (e.g. "4000 req/s"). */
    describe: string;
  },
): Promise<Record<Name, LoadSample>[]> {
  const { names, targets, args, describe, rounds, durationS, log, label } = options;
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-load-rounds-"));
  const pids = names.flatMap((name) => Object.values(targets[name].processes));
  const perRound: Record<Name, LoadSample>[] = [];
  const baseline = await measureIdle(pids);
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = roundOrder(names, round);
      log(`${label}: round ${round} of ${rounds}: ${describe} for ${durationS} s each, ${order.join(" → ")}`);
      const samples = {} as Record<Name, LoadSample>;
      for (const name of order) {
        const target = targets[name];
        await settle(pids, { baseline });
        const stop = startCpuSample(target.processes);
        const load = await runLoadTester({
          url: target.ingressUrl,
          args,
          durationS,
          jsonPath: join(dir, `${round}-${name}.json`),
          name: `${label} ${name}`,
        });
        const answered = load.totals.completed;
        const usPerRequest = stop?.(answered, durationS).usPerRequest ?? {};
        const gateway = usPerRequestOf(usPerRequest, Object.keys(target.processes));
        samples[name] = {
          usPerRequest: { ...usPerRequest, gateway },
          answered,
          failed: load.totals.failed,
          rps: load.throughput.succeededPerS,
          p50Ms: load.latencyMs.p50Ms,
          p99Ms: load.latencyMs.p99Ms,
        };
      }
      perRound.push(samples);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return perRound;
}

/**
 * The same offered load (`rate` requests/s, open loop: the load tester in rate mode) on every
 * target. Below saturation the CPU per request hardly moves with the machine's speed (throughput at
 * saturation does, by tens of percent on a shared VM), and it does not fold in the batching a
 * saturated server gains, which makes a slower variant look cheaper per request.
 */
export function fixedRateRounds<Name extends string>(
  options: RoundsOptions<Name, LoadTarget> & { rate: number },
): Promise<Record<Name, LoadSample>[]> {
  const { rate, ...rest } = options;
  return loadTesterRounds({
    ...rest,
    args: [
      "--mode",
      "rate",
      "--rate",
      String(rate),
      "--duration",
      String(options.durationS),
      "--concurrency",
      "1000",
      "--timeout",
      "10",
      "--max-error-rate",
      "100%",
      "--no-progress",
    ],
    describe: `${rate} req/s`,
  });
}
