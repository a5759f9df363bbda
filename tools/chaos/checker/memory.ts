import type { Verdict } from "./verdict.ts";

export interface MemorySeries {
  name: string;
  pid: number;
  samples: [atMs: number, bytes: number][];
}

export interface MemoryGrowth {
  name: string;
  pid: number;
  /** The span judged: from the middle of the process's life in the run to its end. */
  fromMs: number;
  toMs: number;
  midBytes: number;
  endBytes: number;
  growth: number;
}

/** Most a process's RSS may grow between the middle and the end of its life in the run. */
export const maxGrowth = 0.25;

/**
 * "No process's memory grew more than 25% between the middle and the end of the run", for a run
 * whose faults restart processes: each process is judged over its own life, from the sample at
 * its middle to its last one, if it lived at least `minLifeMs` under load (a process younger than
 * that is still warming up, and a leak needs time to show).
 */
export function checkMemory(
  series: readonly MemorySeries[],
  minLifeMs: number,
  verdict: Verdict,
): MemoryGrowth[] {
  const growths: MemoryGrowth[] = [];
  for (const { name, pid, samples } of series) {
    const first = samples[0];
    const last = samples[samples.length - 1];
    if (!first || !last || last[0] - first[0] < minLifeMs) continue;
    const middleAt = (first[0] + last[0]) / 2;
    const middle = samples.find(([atMs]) => atMs >= middleAt) ?? last;
    const growth = last[1] / middle[1] - 1;
    growths.push({
      name,
      pid,
      fromMs: middle[0],
      toMs: last[0],
      midBytes: middle[1],
      endBytes: last[1],
      growth,
    });
    if (growth > maxGrowth)
      verdict.fail(
        "memory-growth",
        `${name} (pid ${pid}): RSS ${mb(middle[1])} at ${seconds(middle[0])}, ${mb(last[1])} at ${seconds(last[0])} (+${(growth * 100).toFixed(0)}%)`,
      );
  }
  return growths;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}
