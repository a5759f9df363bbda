import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCpuSample, usPerRequestOf } from "./cpu.ts";
import { runLoadTester } from "./load-tester.ts";
import { roundOrder, settle } from "./rounds.ts";

/** What one fixed-rate measurement found: CPU µs per answered request, by process. */
export interface FixedRateSample {
  /** Per process named in the target (e.g. ingress, proxy), and `gateway` = their sum. */
  usPerRequest: Record<string, number>;
  answered: number;
  failed: number;
  p50Ms: number;
}

export interface FixedRateTarget {
  ingressUrl: string;
  /** The gateway's processes whose CPU is counted (not Redis, not the load tester). */
  processes: Record<string, number>;
}

/**
 * The same offered load (`rate` requests/s, open loop: the project's load tester in rate mode) on
 * every target, in interleaved, rotated rounds: what each costs is then the CPU its processes use
 * per answered request. Below saturation that reading hardly moves with the machine's speed
 * (throughput at saturation does, by tens of percent on a shared VM), and it does not fold in the
 * batching a saturated server gains, which makes a slower variant look cheaper per request.
 */
export async function fixedRateRounds<Name extends string>(options: {
  names: readonly Name[];
  targets: Record<Name, FixedRateTarget>;
  rate: number;
  rounds: number;
  durationS: number;
  log: (line: string) => void;
  label: string;
}): Promise<Record<Name, FixedRateSample>[]> {
  const { names, targets, rate, rounds, durationS, log, label } = options;
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-fixed-rate-"));
  const pids = names.flatMap((name) => Object.values(targets[name].processes));
  const perRound: Record<Name, FixedRateSample>[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      const order = roundOrder(names, round);
      log(
        `${label}: round ${round} of ${rounds}: ${rate} req/s for ${durationS} s each, ${order.join(" → ")}`,
      );
      const samples = {} as Record<Name, FixedRateSample>;
      for (const name of order) {
        const target = targets[name];
        await settle(pids);
        const stop = startCpuSample(target.processes);
        const load = await runLoadTester({
          url: target.ingressUrl,
          args: [
            "--mode",
            "rate",
            "--rate",
            String(rate),
            "--duration",
            String(durationS),
            "--concurrency",
            "1000",
            "--timeout",
            "10",
            "--max-error-rate",
            "100%",
            "--no-progress",
          ],
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
          p50Ms: load.latencyMs.p50Ms,
        };
      }
      perRound.push(samples);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return perRound;
}
