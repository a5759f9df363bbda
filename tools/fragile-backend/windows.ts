/**
 * Time windows of the fragile backend, relative to its start or set at run time through the
 * admin routes: outages (every call 500) and throttle storms (every call 429 + Retry-After).
 */
export interface Window {
  from: number;
  until: number;
}

/** "5000+3000" → starts 5 s after start, lasts 3 s. */
export function parseWindow(text: string): { startMs: number; durationMs: number } | undefined {
  const match = /^(\d{1,9})\+(\d{1,9})$/.exec(text.trim());
  if (!match) return undefined;
  return { startMs: Number(match[1]), durationMs: Number(match[2]) };
}

/** "20000:8" → at 20 s after start the knee becomes 8. */
export function parseKneeChange(text: string): { atMs: number; knee: number } | undefined {
  const match = /^(\d{1,9}):(\d{1,6})$/.exec(text.trim());
  if (!match || Number(match[2]) < 1) return undefined;
  return { atMs: Number(match[1]), knee: Number(match[2]) };
}

/** A bounded list of windows: old ones are dropped, at most `max` are kept. */
export class Windows {
  private list: Window[] = [];

  constructor(private readonly max = 64) {}

  add(window: Window): void {
    const now = Date.now();
    this.list = this.list.filter((existing) => existing.until > now);
    if (this.list.length >= this.max) this.list.shift();
    this.list.push(window);
  }

  /** Ends every window (an admin call with ms = 0). */
  clear(): void {
    this.list = [];
  }

  active(now = Date.now()): Window | undefined {
    return this.list.find((window) => window.from <= now && now < window.until);
  }
}
