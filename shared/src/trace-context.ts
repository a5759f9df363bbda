/**
 * Random hex from a pooled buffer: one getRandomValues call per 256 ids instead of one
 * randomBytes allocation per id (two per request on the hot path).
 */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;
function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    crypto.getRandomValues(pool);
    poolOffset = 0;
  }
  const hex = Buffer.from(pool.buffer, poolOffset, bytes).toString("hex");
  poolOffset += bytes;
  return hex;
}

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/**
 * The W3C trace context of a request: the client's when it sent a valid one, otherwise a new
 * trace. The ingress is a hop of its own, so it continues the trace with a fresh span id.
 */
export function continueTrace(header: string | undefined): string {
  const match = header ? traceparentPattern.exec(header.trim().toLowerCase()) : null;
  const traceId = match && !/^0+$/.test(match[1] as string) ? (match[1] as string) : randomHex(16);
  return `00-${traceId}-${randomHex(8)}-01`;
}

/** The trace id part of a traceparent, for log lines. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? traceparent.split("-")[1] : undefined;
}
