import { isAcceptedKey } from "@rsd/shared";
import { Elysia } from "elysia";
import { json } from "./json-response.ts";
import { isClientTraffic, pathStart } from "./request-target.ts";

/** Whether `request` carries `Authorization: Bearer <key>` with one of the accepted keys. */
function hasAcceptedKey(request: Request, apiKeyHashes: readonly Buffer[]): boolean {
  const header = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match !== null && isAcceptedKey(match[1] as string, apiKeyHashes);
}

function unauthorized(): Response {
  return json(
    401,
    { error: "missing or invalid API key: send Authorization: Bearer <key>" },
    { "www-authenticate": 'Bearer realm="redis-stream-demo"' },
  );
}

/**
 * 401 unless `request` carries an accepted key; undefined when it may pass (or when no keys are
 * configured). For code that is itself a protected route: it does not look at the path.
 */
export function refuseWithoutKey(request: Request, apiKeyHashes: readonly Buffer[]): Response | undefined {
  if (apiKeyHashes.length === 0 || hasAcceptedKey(request, apiKeyHashes)) return undefined;
  return unauthorized();
}

/**
 * Optional client authentication (API_KEYS / API_KEYS_FILE), in two places that cannot disagree:
 *
 * - every route registered on the returned instance checks the key in its own `beforeHandle`,
 *   so the check runs where the protected handler runs, whatever path the router computed;
 * - every request whose path is under /api or /proxy is refused before routing (`onRequest`),
 *   so a client without a key learns nothing about which routes exist and no body is read.
 *
 * Protected routes read their bodies themselves (no Elysia parse hook), so `beforeHandle` still
 * runs before any body is read. Without configured keys both do nothing.
 */
export function protectedRoutes(apiKeyHashes: readonly Buffer[]) {
  const routes = new Elysia({ name: "protected-routes" });
  if (apiKeyHashes.length === 0) return routes;
  return routes
    .onRequest(({ request }) => {
      const url = request.url;
      const start = pathStart(url);
      // No usable Host: the instrumented server answers 400 before the app sees it; refuse anyway.
      if (start < 0 || isClientTraffic(url, start)) return refuseWithoutKey(request, apiKeyHashes);
    })
    .onBeforeHandle(({ request }) => refuseWithoutKey(request, apiKeyHashes));
}
