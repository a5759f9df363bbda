/**
 * Random hex from a pooled buffer: 4 KiB of random bytes hex-encoded at once, then sliced, instead
 * of a randomBytes allocation (or a Buffer view and its encoding) per id, two ids per request.
 */
const poolBytes = 4096;
let hexPool = "";
let hexOffset = 0;
function randomHex(bytes: number): string {
  const length = bytes * 2;
  if (hexOffset + length > hexPool.length) {
    hexPool = Buffer.from(crypto.getRandomValues(new Uint8Array(poolBytes))).toString("hex");
    hexOffset = 0;
  }
  const hex = hexPool.slice(hexOffset, hexOffset + length);
  hexOffset += length;
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
