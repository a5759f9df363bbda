import { readFileSync } from "node:fs";
import type { Instance } from "./stack.ts";

/** Resident memory of one process, in bytes, from /proc (undefined when it is gone or not Linux). */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** One process's RSS over its life in the run: [ms after the load started, bytes]. */
export interface RssSeries {
  name: string;
  pid: number;
  samples: [atMs: number, bytes: number][];
}

/**
 * Samples the RSS of every service process alive, every `intervalMs`, for the memory rule.
 * Bounded: one sample per process per interval for a bounded run.
 */
export class RssRecorder {
  private readonly series = new Map<number, RssSeries>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly instances: () => readonly Instance[],
    private readonly t0: number,
    intervalMs = 2_000,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const atMs = Date.now() - this.t0;
    for (const instance of this.instances()) {
      if (instance.stoppedAtMs !== undefined || instance.kind === "redis") continue;
      const bytes = rssBytes(instance.pid);
      if (bytes === undefined) continue;
      const series = this.series.get(instance.pid) ?? { name: instance.name, pid: instance.pid, samples: [] };
      series.samples.push([atMs, bytes]);
      this.series.set(instance.pid, series);
    }
  }

  /** Takes a last sample and stops. */
  stop(): RssSeries[] {
    clearInterval(this.timer);
    this.sample();
    return [...this.series.values()];
  }
}
