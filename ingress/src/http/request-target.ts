import { json } from "./json-response.ts";

/**
 * Where a request's path starts in `request.url`, or -1 when Bun gave a URL no router can agree
 * on. Bun makes the URL absolute (`http://<Host><target>`) from a valid Host header, and leaves
 * it as the bare request target when the Host is missing, empty or not a host (`a@b`, `a/b`).
 * Elysia's router, set to `standardHostname: false` (gateway.ts), takes the path from the first
 * `/` after `http://`: this is the same rule, so the auth check, the metrics and the router see
 * the same path for every request-target form (origin-form, absolute-form, odd hosts).
 */
export function pathStart(url: string): number {
  return url.startsWith("http://") ? url.indexOf("/", 7) : -1;
}

/** The path of `url` without its query, or undefined when it has none the router would agree on. */
export function requestPath(url: string): string | undefined {
  const start = pathStart(url);
  if (start < 0) return undefined;
  const query = url.indexOf("?", start);
  return query < 0 ? url.slice(start) : url.slice(start, query);
}

/**
 * Paths that carry client traffic (counted as API requests, and protected by API keys). The
 * operator routes under /api/admin are not client traffic: they have their own keys
 * (isAdminTarget) and are neither counted nor timed as API requests.
 */
export function isClientTraffic(url: string, start: number): boolean {
  if (url.startsWith("/api/", start))
    return !url.startsWith("admin", start + 5) || !isAdminTarget(url, start);
  return url.startsWith("/proxy/", start) || endsAt(url, start, "/api") || endsAt(url, start, "/proxy");
}

/** Paths of the operator console and its API (/console, /api/admin), protected by admin keys. */
export function isAdminTarget(url: string, start: number): boolean {
  return (
    url.startsWith("/api/admin/", start) ||
    url.startsWith("/console/", start) ||
    endsAt(url, start, "/api/admin") ||
    endsAt(url, start, "/console")
  );
}

/** `url` holds exactly `segment` at `start`, followed by nothing, a query or a fragment. */
function endsAt(url: string, start: number, segment: string): boolean {
  if (!url.startsWith(segment, start)) return false;
  const next = url.charCodeAt(start + segment.length);
  return Number.isNaN(next) || next === 63 /* ? */ || next === 35 /* # */;
}

/**
 * RFC 9112 §3.2: a request without a usable Host header is answered 400. Without one the
 * request target alone cannot be routed the same way by every part of the gateway.
 */
export function missingHost(): Response {
  return json(400, { error: "missing or invalid Host header: send Host: <host>[:<port>]" });
}
