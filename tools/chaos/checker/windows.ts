/** A span of run time (ms after the load started) during which a fault may explain what clients saw. */
export interface Window {
  fromMs: number;
  toMs: number;
  label: string;
}

/** What the checker knows about an injected fault: its own copy of the shape, so it imports nothing of the tool's runner. */
export interface FaultSpan {
  kind: string;
  target: number;
  startMs: number;
  endMs: number;
}

/**
 * A fault's influence lasts past its end: a request that was queued or running when it happened
 * can still be retried or reclaimed until its deadline, plus a claim's idle time (a reclaim), plus
 * a margin for a loaded machine.
 */
export function influenceWindows(faults: readonly FaultSpan[], settleMs: number): Window[] {
  return faults.map((fault) => ({
    fromMs: fault.startMs,
    toMs: fault.endMs + settleMs,
    label: `${fault.kind}#${fault.target}`,
  }));
}

export function overlapping(windows: readonly Window[], fromMs: number, toMs: number): Window[] {
  return windows.filter((window) => window.fromMs <= toMs && fromMs <= window.toMs);
}
