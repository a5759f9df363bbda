import { BadRequestError, PayloadTooLargeError } from "./errors.ts";

/**
 * Reads a request body as JSON with a byte limit, before anything else looks at it: an
 * oversized body is refused from its Content-Length alone, a chunked one as soon as it passes
 * the limit, and bad JSON becomes a 400 that says so.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  // The body is read as JSON whatever the Content-Type says: `curl -d` sends form encoding by
  // default, and refusing it would only make the first try fail.
  const text = declared !== null ? await request.text() : await readLimited(request, maxBytes);
  if (Buffer.byteLength(text) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (text.length === 0) throw new BadRequestError("request body is empty: expected a JSON object");
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequestError("request body is not valid JSON");
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<string> {
  if (!request.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
