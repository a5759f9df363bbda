/**
 * The transparent forwarding route (`ANY /proxy/*`) carries whole HTTP exchanges through the
 * stream. Bodies travel base64-encoded inside the JSON envelope, so binary bodies survive.
 */
export interface ForwardedRequest {
  method: string;
  /** Path after `/proxy`, always starting with `/`. */
  path: string;
  /** The raw query string, with its leading `?`, or "". */
  query: string;
  headers: [name: string, value: string][];
  /** Base64 body, "" for none. */
  body: string;
}

export interface ForwardedResponse {
  status: number;
  headers: [name: string, value: string][];
  body: string;
}

/** Headers that belong to one connection, never forwarded (RFC 9110 §7.6.1). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
]);

/** End-to-end headers only: hop-by-hop ones, and any the Connection header names, are dropped. */
export function endToEndHeaders(headers: Headers): [string, string][] {
  const named = new Set(
    (headers.get("connection") ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const kept: [string, string][] = [];
  headers.forEach((value, name) => {
    const lower = name.toLowerCase();
    if (!hopByHop.has(lower) && !named.has(lower)) kept.push([lower, value]);
  });
  return kept;
}

/** Methods a client may safely repeat: their upstream failures may be retried. */
export const idempotentMethods = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);
