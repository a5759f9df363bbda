import type { Subprocess } from "bun";

/**
 * Sends `signal` to this one process (by its own pid, nothing else) and waits for its exit code;
 * one still running after `killAfterMs` gets SIGKILL.
 */
export async function stopProcess(
  proc: Subprocess,
  { signal = "SIGTERM", killAfterMs }: { signal?: NodeJS.Signals; killAfterMs: number },
): Promise<number> {
  if (proc.exitCode !== null) return proc.exitCode;
  proc.kill(signal);
  const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}
