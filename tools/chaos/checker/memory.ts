import type { Verdict } from "./verdict.ts";

export interface MemorySample {
  name: string;
  pid: number;
  bytes: number;
}

export interface MemoryGrowth {
  name: string;
  pid: number;
  midBytes: number;
  endBytes: number;
  growth: number;
}

/** Most a process's RSS may grow between the middle and the end of the run. */
export const maxGrowth = 0.25;

/**
 * Compares each process that was sampled at both points (same pid: a restarted process starts a
 * new life and is not compared with its predecessor).
 */
export function checkMemory(
  mid: readonly MemorySample[],
  end: readonly MemorySample[],
  verdict: Verdict,
): MemoryGrowth[] {
  const growths: MemoryGrowth[] = [];
  for (const late of end) {
    const early = mid.find((sample) => sample.pid === late.pid);
    if (!early) continue;
    const growth = late.bytes / early.bytes - 1;
    growths.push({ name: late.name, pid: late.pid, midBytes: early.bytes, endBytes: late.bytes, growth });
    if (growth > maxGrowth)
      verdict.fail(
        "memory-growth",
        `${late.name} (pid ${late.pid}): RSS ${mb(early.bytes)} at the middle, ${mb(late.bytes)} at the end (+${(growth * 100).toFixed(0)}%)`,
      );
  }
  return growths;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
