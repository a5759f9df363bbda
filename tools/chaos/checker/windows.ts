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
 * A fault's influence lasts a little past its end (`settleMs`): what a request could suffer from it
 * (a second backend call) only hits a request in flight during the fault, whose span overlaps it.
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
