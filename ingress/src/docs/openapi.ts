import { dirname, join } from "node:path";
import { openapi } from "@elysiajs/openapi";
import { Elysia } from "elysia";

/**
 * Swagger UI at /swagger and the OpenAPI document at /swagger/json, generated from the same `t`
 * schemas that validate requests. The UI's script and stylesheet come from the swagger-ui-dist
 * package and are served by the ingress itself: clusters are often offline, so no CDN.
 */
const assetsDir = dirname(require.resolve("swagger-ui-dist/package.json"));
// A Map, not an object literal: a name such as `constructor` or `__proto__` must not find
// something on Object.prototype and send a file path that does not exist to Bun.file.
const assets = new Map<string, string>([
  ["swagger-ui-bundle.js", "application/javascript; charset=utf-8"],
  ["swagger-ui.css", "text/css; charset=utf-8"],
]);

export function openapiPlugin(version: string) {
  return new Elysia({ name: "openapi" })
    .use(
      openapi({
        path: "/swagger",
        provider: "swagger-ui",
        specPath: "/swagger/json",
        exclude: { paths: [/^\/swagger/, /^\/console/] },
        swagger: {
          cdn: "/swagger/assets/swagger-ui-bundle.js",
          theme: "/swagger/assets/swagger-ui.css",
          autoDarkMode: false,
        },
        documentation: {
          info: {
            title: "redis-stream-demo ingress",
            version,
            description:
              "Queue-backed request/reply gateway: each request waits in a Redis Stream for a proxy terminal.",
          },
          tags: [
            { name: "requests", description: "Submit requests and read their outcome" },
            { name: "fleet", description: "What the proxy fleet can do" },
            { name: "proxy", description: "Transparent forwarding to the backend (HANDLER=http)" },
            { name: "operations", description: "Health, readiness and metrics" },
            {
              name: "admin",
              description: "The operator console's API: live figures and dead letters (ADMIN_API_KEYS)",
            },
          ],
          components: {
            securitySchemes: {
              adminKey: { type: "http", scheme: "bearer", description: "An admin key (ADMIN_API_KEYS)" },
            },
          },
        },
      }),
    )
    .get("/swagger/", ({ redirect }) => redirect("/swagger", 308), { detail: { hide: true } })
    .get(
      "/swagger/assets/:file",
      ({ params, status }) => {
        const type = assets.get(params.file);
        if (!type) return status(404, { error: "no such asset" });
        return new Response(Bun.file(join(assetsDir, params.file)), {
          headers: { "content-type": type, "cache-control": "public, max-age=86400" },
        });
      },
      { detail: { hide: true } },
    );
}
