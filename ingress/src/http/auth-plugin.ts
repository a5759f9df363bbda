import { isAcceptedKey } from "@rsd/shared";
import { Elysia } from "elysia";
import { json } from "./json-response.ts";

/** Routes that carry client traffic; health, readiness, metrics and docs stay open. */
function isProtected(path: string): boolean {
  return path.startsWith("/api/") || path === "/api" || path.startsWith("/proxy/") || path === "/proxy";
}

/** 401 when `request` is for a protected route without an accepted key; undefined when it may pass. */
export function refuseUnauthenticated(
  request: Request,
  apiKeyHashes: readonly Buffer[],
): Response | undefined {
  if (apiKeyHashes.length === 0) return undefined;
  const url = request.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2)).split("?")[0] ?? "/";
  if (!isProtected(path)) return undefined;
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match && isAcceptedKey(match[1] as string, apiKeyHashes)) return undefined;
  return json(
    401,
    { error: "missing or invalid API key: send Authorization: Bearer <key>" },
    { "www-authenticate": 'Bearer realm="redis-stream-demo"' },
  );
}

/**
 * Optional client authentication (API_KEYS / API_KEYS_FILE): `Authorization: Bearer <key>` on
 * /api/* and /proxy/*, checked before the body is read, so an unauthenticated client cannot make
 * the gateway parse or enqueue anything. Without configured keys the plugin does nothing.
 */
export function authPlugin(apiKeyHashes: readonly Buffer[]) {
  const plugin = new Elysia({ name: "auth" });
  if (apiKeyHashes.length === 0) return plugin;
  return plugin.onRequest(({ request }) => refuseUnauthenticated(request, apiKeyHashes));
}
