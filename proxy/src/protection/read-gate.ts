/**
 * What may hold a reader back before it asks Redis for entries: a backend pause, an open breaker,
 * the fleet's rate limit. While a gate says 0, the entries stay unread in Redis, where they cost
 * no attempt and any pod can take them once the gate opens.
 */
export interface ReadGate {
  /** How many of `wanted` (≥ 1) entries may be read now; 0 after waiting a little (the reader loops). */
  admit(wanted: number, signal: AbortSignal): Promise<number>;
  /** `count` of the admitted entries were not read (the stream had fewer). */
  unused(count: number): void;
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function rest(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Gates in order; the first that says 0 stops the read. Only the last may hold something that
 * must be given back (the rate limit's tokens), so it goes last.
 */
export function chainGates(list: (ReadGate | undefined)[]): ReadGate | undefined {
  const gates = list.filter((gate): gate is ReadGate => gate !== undefined);
  if (gates.length <= 1) return gates[0];
  return {
    async admit(wanted, signal) {
      let admitted = wanted;
      for (const gate of gates) {
        admitted = await gate.admit(admitted, signal);
        if (admitted === 0) return 0;
      }
      return admitted;
    },
    unused(count) {
      for (const gate of gates) gate.unused(count);
    },
  };
}
