import { json } from "./json-response.ts";

/** Limits on what a request may look like before any route sees it. */
export const requestLimits = {
  maxUrlLength: 4096,
  maxHeaderCount: 100,
  // Below Bun's own 16 KiB limit, so our JSON 431 answers first (beyond it Bun answers 431 itself).
  maxHeaderBytes: 8 * 1024,
} as const;

/**
 * Refuses oversized URLs (414) and header sets (431) with JSON errors, so a hostile client
 * gets the same clear answer as any other bad input and nothing reaches Redis.
 */
export function checkRequestLimits(request: Request, url = request.url): Response | undefined {
  if (url.length > requestLimits.maxUrlLength) {
    return json(414, { error: `URL longer than ${requestLimits.maxUrlLength} characters` });
  }
  let count = 0;
  let bytes = 0;
  request.headers.forEach((value, name) => {
    count++;
    bytes += name.length + value.length;
  });
  if (count > requestLimits.maxHeaderCount) {
    return json(431, { error: `more than ${requestLimits.maxHeaderCount} headers` });
  }
  if (bytes > requestLimits.maxHeaderBytes) {
    return json(431, { error: `headers larger than ${requestLimits.maxHeaderBytes} bytes` });
  }
  return undefined;
}

/** Deepest nesting a JSON payload may have: deeper documents are refused (400), never walked. */
export const maxJsonDepth = 64;

/** The nesting depth of a parsed JSON value, stopping as soon as it exceeds `limit`. */
export function jsonDepthExceeds(value: unknown, limit = maxJsonDepth): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== "object") continue;
    if (depth + 1 > limit) return true;
    for (const child of Object.values(current)) stack.push([child, depth + 1]);
  }
  return false;
}
