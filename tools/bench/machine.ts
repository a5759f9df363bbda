import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release, totalmem } from "node:os";

/** What the numbers were measured on: a benchmark result without its machine means little. */
export interface Machine {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  bun: string;
  redis: string;
  wrk: string;
  commit: string;
  /** 1-minute load average when the run started: other work on the machine moves the numbers. */
  loadAverage: number;
}

function firstLine(command: string[]): string {
  try {
    const result = Bun.spawnSync(command, { stdout: "pipe", stderr: "pipe" });
    return `${result.stdout.toString()}${result.stderr.toString()}`.trim().split("\n")[0] ?? "unknown";
  } catch {
    return "unknown";
  }
}

function cpuModel(): string {
  try {
    const match = readFileSync("/proc/cpuinfo", "utf8").match(/^model name\s*:\s*(.+)$/m);
    return match?.[1]?.trim() ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function describeMachine(): Machine {
  const dirty = firstLine(["git", "status", "--porcelain", "--", "shared", "ingress", "proxy"]) !== "";
  return {
    nproc: availableParallelism(),
    cpuModel: cpuModel(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: `Linux ${release()}`,
    bun: Bun.version,
    redis: firstLine(["redis-server", "--version"]).replace(/^Redis server v=(\S+).*$/, "$1"),
    wrk: firstLine(["wrk", "-v"]).replace(/^wrk (\S+).*$/, "$1"),
    loadAverage: Math.round(loadavg()[0]! * 100) / 100,
    commit: `${firstLine(["git", "rev-parse", "--short", "HEAD"])}${dirty ? " (services modified)" : ""}`,
  };
}
