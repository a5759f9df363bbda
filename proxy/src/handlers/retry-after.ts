/** The longest pause a backend may impose through Retry-After (a typo must not stop the fleet for a day). */
export const maxPauseMs = 300_000;
/** The pause for a 429 without a usable Retry-After. */
export const defaultPauseMs = 1_000;

/**
 * A Retry-After header (delta-seconds or an HTTP-date, RFC 9110 §10.2.3, IMF-fixdate) as milliseconds from
 * `now`, within 0…maxPauseMs; undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  let ms: number;
  if (/^\d{1,10}$/.test(text)) ms = Number(text) * 1000;
  else {
    // IMF-fixdate only ("Sun, 06 Nov 1994 08:49:37 GMT"); Date.parse alone accepts "-1" as a year.
    if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined;
    const date = Date.parse(text);
    if (!Number.isFinite(date)) return undefined;
    ms = date - now;
  }
  return Math.min(maxPauseMs, Math.max(0, ms));
}
