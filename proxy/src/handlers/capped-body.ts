import { UnrecoverableError } from "./handler.ts";

/** The upstream answered more than the proxy will hold: a 502 for the client, never retried. */
export class ResponseTooLargeError extends UnrecoverableError {
  override name = "ResponseTooLargeError";
  constructor(limit: number) {
    super(`upstream response larger than MAX_UPSTREAM_RESPONSE_BYTES (${limit} bytes)`);
  }
}

/**
 * Reads an upstream response body of at most `limit` bytes: refused from its Content-Length
 * alone, or as soon as the streamed bytes pass the limit, and the rest is never read (the
 * connection is cancelled). The proxy never holds more than `limit` bytes of one answer, so a
 * backend that answers with gigabytes fails one request instead of the pod.
 */
export async function readCappedBody(response: Response, limit: number): Promise<Buffer> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) {
    await response.body?.cancel().catch(() => {});
    throw new ResponseTooLargeError(limit);
  }
  if (!response.body) return Buffer.alloc(0);
  if (declared <= limit) return Buffer.from(await response.arrayBuffer());
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw new ResponseTooLargeError(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}
