import { readFileSync } from "node:fs";

/**
 * Where the CPU goes during a measurement: each process's own CPU time (all its threads, user +
 * system, from /proc) divided by the requests answered, beside the machine's total busy time. What
 * no named process used is the load generator (wrk) and the rest of the machine. Linux only; on
 * another system the breakdown is left out.
 */
export interface CpuBreakdown {
  /** CPU microseconds per request, by process name, plus `wrk + rest`. */
  usPerRequest: Record<string, number>;
  /** Share of one CPU each used over the window (1 = a whole core). */
  cores: Record<string, number>;
}

const tickMs = 10; // USER_HZ is 100 on every Linux this runs on

function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which may itself contain spaces: utime is 14th, stime 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * tickMs;
}

/** The CPU time (ms) the processes `pids` have used so far, together; 0 for one that is gone. */
export function cpuMsOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += processCpuMs(pid);
    } catch {
      // exited, or no /proc: it uses nothing more
    }
  }
  return total;
}

function machineBusyMs(): number {
  const times = readFileSync("/proc/stat", "utf8").split("\n")[0]!.split(/\s+/).slice(1).map(Number);
  const idle = (times[3] ?? 0) + (times[4] ?? 0); // idle + iowait
  return (times.reduce((sum, value) => sum + value, 0) - idle) * tickMs;
}

/** The CPU µs per request of the processes `names` together (those not measured count 0). */
export function usPerRequestOf(usPerRequest: Record<string, number> | undefined, names: string[]): number {
  return names.reduce((sum, name) => sum + (usPerRequest?.[name] ?? 0), 0);
}

/** Starts counting; the returned function stops and divides by the requests answered meanwhile. */
export function startCpuSample(
  processes: Record<string, number>,
): ((requests: number, durationS: number) => CpuBreakdown) | undefined {
  try {
    const before = Object.fromEntries(
      Object.entries(processes).map(([name, pid]) => [name, processCpuMs(pid)]),
    );
    const busyBefore = machineBusyMs();
    return (requests, durationS) => {
      const used: Record<string, number> = {};
      for (const [name, pid] of Object.entries(processes))
        used[name] = processCpuMs(pid) - (before[name] ?? 0);
      const named = Object.values(used).reduce((sum, value) => sum + value, 0);
      used["wrk + rest"] = Math.max(0, machineBusyMs() - busyBefore - named);
      const usPerRequest: Record<string, number> = {};
      const cores: Record<string, number> = {};
      for (const [name, ms] of Object.entries(used)) {
        usPerRequest[name] = requests > 0 ? (ms * 1000) / requests : 0;
        cores[name] = ms / (durationS * 1000);
      }
      return { usPerRequest, cores };
    };
  } catch {
    return undefined; // no /proc: the report simply has no breakdown
  }
}
