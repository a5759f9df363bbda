export interface WaitOptions {
  /** What is awaited, for the error: "redis-server on port 6379". */
  what: string;
  timeoutMs: number;
  /** The pause between two probes. */
  intervalMs?: number;
  /**
   * Asked before every probe: a reason (say, "redis-server exited with 1") ends the wait at once,
   * instead of probing what can no longer come until the deadline.
   */
  failure?: () => string | undefined;
}

/**
 * Probes until `probe` returns a truthy value, which it returns. A probe that throws counts as
 * "not yet"; the last such error is named when the deadline passes.
 */
export async function waitUntil<T>(
  probe: () => T | Promise<T>,
  { what, timeoutMs, intervalMs = 50, failure }: WaitOptions,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    const reason = failure?.();
    if (reason) throw new Error(`gave up waiting for ${what}: ${reason}`);
    const value = await Promise.resolve()
      .then(probe)
      .catch((error: unknown) => {
        lastError = error instanceof Error ? ` (last error: ${error.message})` : "";
        return undefined;
      });
    if (value) return value;
    if (Date.now() >= deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}`);
    await Bun.sleep(intervalMs);
  }
}
