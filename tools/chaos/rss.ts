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

export interface RssSample {
  name: string;
  pid: number;
  bytes: number;
}

/** RSS of every process of the run that is alive now. */
export function sampleRss(instances: readonly Instance[]): RssSample[] {
  return instances.flatMap((instance) => {
    if (instance.stoppedAtMs !== undefined) return [];
    const bytes = rssBytes(instance.pid);
    return bytes === undefined ? [] : [{ name: instance.name, pid: instance.pid, bytes }];
  });
}
