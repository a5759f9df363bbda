import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createLogger, loadIngressConfig } from "@rsd/shared";
import { createGateway, type Gateway } from "../../ingress/src/gateway.ts";
import { protectedRoutes } from "../../ingress/src/http/auth-plugin.ts";
import { TestRedis } from "../helpers/redis-server.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const key = `routes-key-${crypto.randomUUID()}`;
const keyHashes = loadIngressConfig({ API_KEYS: key }).apiKeyHashes;

/**
 * Routes that are open by design: health, readiness, metrics, the API documentation, and the
 * console's login form (it asks for an admin key; everything else of the console needs one).
 */
const openRoutes = /^\/(healthz|readyz|metrics|swagger)(\/|$)|^\/console\/log(in|out)$/;

describe("the API key is checked where the protected handler runs", () => {
  test("a route on protectedRoutes refuses a request its router reached by another path", async () => {
    // Elysia's default router assumes a host of at least four characters: for Host `a` it serves
    // /xx/api/x as /api/x. The path-based early check sees /xx/api/x and lets it pass; the
    // route's own check must still refuse it.
    // The instance is its own app here, with Elysia's default router.
    const app = protectedRoutes(keyHashes).get("/api/x", () => "served");
    const misrouted = await app.handle(new Request("http://a/xx/api/x"));
    expect(misrouted.status).toBe(401);
    const withKey = await app.handle(
      new Request("http://a/xx/api/x", { headers: { authorization: `Bearer ${key}` } }),
    );
    expect(await withKey.text()).toBe("served");
  });

  describe("every route of the ingress app", () => {
    let redis: TestRedis;
    let gateway: Gateway;
    beforeAll(async () => {
      redis = await TestRedis.start();
      const config = loadIngressConfig({ REDIS_URL: redis.url, API_KEYS: key, LOG_LEVEL: "error" });
      gateway = createGateway(config, createLogger("error", "ingress", "test"), "0.0.0");
    });
    afterAll(async () => {
      await gateway?.stop();
      await redis?.destroy();
    });

    test("without a key, every route that is not open by design answers 401", async () => {
      const routes = gateway.app.routes.map(({ method, path }) => ({ method, path }));
      const checked: string[] = [];
      for (const { method, path } of routes) {
        if (openRoutes.test(path)) continue;
        const concrete = path.replace(/:[^/]+/g, crypto.randomUUID()).replace(/\*/g, "anything");
        const verb = method === "ALL" ? "POST" : method;
        const response = await gateway.app.handle(
          new Request(`http://localhost${concrete}`, {
            method: verb,
            ...(verb === "GET" || verb === "HEAD" ? {} : { body: '{"payload":1}' }),
          }),
        );
        expect({ route: `${method} ${path}`, status: response.status }).toEqual({
          route: `${method} ${path}`,
          status: 401,
        });
        checked.push(`${method} ${path}`);
      }
      // The client routes are all there: the loop above was not vacuous.
      expect(checked).toEqual(
        expect.arrayContaining([
          "POST /api/requests",
          "GET /api/requests/:id",
          "GET /api/fleet",
          "ALL /proxy/*",
          "GET /console",
          "GET /api/admin/events",
          "POST /api/admin/dead-letters/:entryId/replay",
        ]),
      );
    });
  });
});
