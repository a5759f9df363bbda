import type { Logger } from "@rsd/shared";
import { Elysia } from "elysia";
import type { ConnectionTimeouts } from "../http/connection-timeouts.ts";
import { readBody } from "../http/json-body.ts";
import { json } from "../http/json-response.ts";
import { isAdminTarget, pathStart, requestPath } from "../http/request-target.ts";
import { type AdminAccess, pageSecurityHeaders, sessionCookie } from "./access.ts";
import { type DeadLetterRoutesOptions, deadLetterRoutes } from "./dead-letter-routes.ts";
import type { EventHub } from "./event-hub.ts";
import { consoleAssets, consolePage, loginPage } from "./pages.ts";

export interface AdminOptions {
  access: AdminAccess;
  hub: EventHub;
  deadLetters: DeadLetterRoutesOptions["deadLetters"];
  connections: ConnectionTimeouts;
  logger: Logger;
}

/** Public: the login form must be reachable without a key. Nothing else under /console is. */
const publicPaths = new Set(["/console/login", "/console/logout"]);

/**
 * The operator console and its API: /console (page and assets) and /api/admin/* (events, dead
 * letters). The admin key is checked in two places that cannot disagree, as for client routes
 * (http/auth-plugin.ts): every route registered here checks it in its own `beforeHandle`, where the
 * handler runs, whatever path the router computed; and every request whose path (by the rule of
 * http/request-target.ts) is under /console or /api/admin is refused before routing.
 */
export function adminController(options: AdminOptions) {
  const { access, hub, connections, logger } = options;
  const nameOf = (request: Request): string => {
    const checked = access.check(request);
    return typeof checked === "string" ? checked : "refused";
  };
  const guarded = new Elysia({ name: "admin-routes" });
  if (!access.open)
    guarded
      .onRequest(({ request }) => {
        const url = request.url;
        const start = pathStart(url);
        if (start < 0 || !isAdminTarget(url, start)) return;
        if (publicPaths.has(requestPath(url) ?? "")) return;
        const checked = access.check(request);
        if (typeof checked !== "string") return checked;
      })
      .onBeforeHandle(({ request }) => {
        const checked = access.check(request);
        if (typeof checked !== "string") return checked;
      });
  const routes = guarded
    .get("/console", () => page(consolePage), { detail: { hide: true } })
    .get("/console/", ({ redirect }) => redirect("/console", 308), { detail: { hide: true } })
    .get(
      "/console/assets/:file",
      ({ params }) => {
        const asset = consoleAssets.get(params.file);
        if (!asset) return json(404, { error: "no such asset" });
        return new Response(Bun.file(asset.path), {
          headers: {
            "content-type": asset.type,
            "cache-control": "private, max-age=3600",
            "x-content-type-options": "nosniff",
          },
        });
      },
      { detail: { hide: true } },
    )
    .get(
      "/api/admin/events",
      ({ request }) => {
        connections.holdOpen(request);
        const admin = nameOf(request);
        logger.debug("admin: console events opened", { admin });
        return hub.open(admin);
      },
      {
        tags: ["admin"],
        detail: {
          summary: "Live console figures (Server-Sent Events)",
          description:
            "One `snapshot` event per ADMIN_EVENT_INTERVAL_MS (fleet, queue, traffic, shed counts, dead letters, Redis state), " +
            "after one `history` event with the last minutes of traffic. 503 when ADMIN_MAX_EVENT_CLIENTS streams are open. " +
            "A client that stops reading is dropped once ADMIN_EVENT_BUFFER_BYTES wait for it.",
          security: [{ adminKey: [] }],
          responses: { 200: { description: "text/event-stream" } },
        },
      },
    )
    .use(deadLetterRoutes({ deadLetters: options.deadLetters, adminName: nameOf, logger }));

  const login = new Elysia({ name: "admin-login" })
    .get("/console/login", () => page(loginPage()), { detail: { hide: true } })
    .post(
      "/console/login",
      async ({ request }) => {
        const text = (await readBody(request, 4096)).toString("utf8");
        const key = new URLSearchParams(text).get("key") ?? "";
        const name = access.open ? "anonymous" : access.nameOfKey(key);
        if (name === undefined) {
          logger.info("admin: login refused");
          return page(loginPage(true), 401);
        }
        logger.info("admin: logged in", { admin: name });
        return new Response(null, {
          status: 303,
          headers: { location: "/console", "set-cookie": access.sessionCookieFor(name) },
        });
      },
      { detail: { hide: true } },
    )
    .post(
      "/console/logout",
      () =>
        new Response(null, {
          status: 303,
          headers: {
            location: "/console/login",
            "set-cookie": `${sessionCookie}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict`,
          },
        }),
      { detail: { hide: true } },
    );
  return new Elysia({ name: "admin" }).use(login).use(routes);
}

function page(html: string, status = 200): Response {
  return new Response(html, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", ...pageSecurityHeaders },
  });
}
