import { BadRequestError, PayloadTooLargeError } from "./errors.ts";
import { jsonDepthExceeds, maxJsonDepth } from "./request-limits.ts";

/**
 * Reads a request body with a byte limit, before anything else looks at it: an oversized body is
 * refused from its Content-Length alone, a chunked one as soon as it passes the limit.
 */
export async function readBody(request: Request, maxBytes: number): Promise<Buffer> {
  const declared = request.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
    // A declared length is bounded already: one native read beats iterating a web stream.
    return Buffer.from(await request.arrayBuffer());
  }
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new PayloadTooLargeError(maxBytes);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The body as JSON, whatever the Content-Type says: `curl -d` sends form encoding by default, and
 * refusing it would only make the first try fail. Bad JSON becomes a 400 that says so.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  if (declared === "0") throw emptyBody();
  let value: unknown;
  if (declared !== null) {
    // A declared, bounded length: Bun reads and parses it natively, without a copy or a decode.
    try {
      value = await request.json();
    } catch {
      throw notJson();
    }
  } else {
    const text = (await readBody(request, maxBytes)).toString("utf8");
    if (text.length === 0) throw emptyBody();
    try {
      value = JSON.parse(text);
    } catch {
      throw notJson();
    }
  }
  if (jsonDepthExceeds(value))
    throw new BadRequestError(`request body is nested deeper than ${maxJsonDepth} levels`);
  return value;
}

const emptyBody = () => new BadRequestError("request body is empty: expected a JSON object");
const notJson = () => new BadRequestError("request body is not valid JSON");
