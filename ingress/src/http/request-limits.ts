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

/**
 * Whether a parsed JSON value nests deeper than `limit`. Recursive rather than with an explicit
 * stack: the recursion stops at `limit` levels, and it allocates nothing per value (it runs on
 * every request body).
 */
export function jsonDepthExceeds(value: unknown, limit = maxJsonDepth): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit === 0) return true;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++)
      if (jsonDepthExceeds(value[index], limit - 1)) return true;
    return false;
  }
  for (const key in value)
    if (jsonDepthExceeds((value as Record<string, unknown>)[key], limit - 1)) return true;
  return false;
}
