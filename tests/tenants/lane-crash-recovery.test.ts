import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine (each wait inside has its own deadline).
setDefaultTimeout(90_000);

const tenants = ["acme", "globex", "initech"];
const perTenant = 60;

/** The reliability suite's SIGKILL run, with three tenants on their own lanes and urgencies. */
describe("no request is lost when a proxy dies, with lanes (TENANT_LANES=on)", () => {
  let stack: Stack | undefined;
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("SIGKILL mid-run: every request of every tenant gets 200, once; the lanes drain and go", async () => {
    stack = await Stack.start({
      proxies: 2,
      terminals: 5,
      processingMs: 50,
      env: { TENANT_LANES: "on" },
      proxyEnv: { CLAIM_IDLE_MS: "300", TENANT_WEIGHTS: "acme=2" },
    });
    const running = stack;
    let answered = 0;
    let killed: Promise<number> | undefined;
    const responses = await Promise.all(
      tenants.flatMap((tenant, t) =>
        Array.from({ length: perTenant }, async (_, index) => {
          const response = await running.request(
            { payload: { tenant, index }, timeoutMs: 30_000 },
            { "x-tenant": tenant, priority: `u=${(index + t) % 3 === 0 ? 1 : 3}` },
          );
          if (++answered === 40) killed = running.proxies[0]!.stop("SIGKILL");
          return { tenant, index, response };
        }),
      ),
    );
    expect(await killed).not.toBe(0);
    expect(
      responses.filter(({ response }) => response.status !== 200).map(({ response }) => response.status),
    ).toEqual([]);
    expect(new Set(responses.map(({ response }) => response.body.id)).size).toBe(tenants.length * perTenant);
    for (const { tenant, index, response } of responses)
      expect((response.body.result as { echo: unknown }).echo).toEqual({ tenant, index });
    expect(await metricValue(running.proxies[1]!.url, "rsd_proxy_reclaimed_total")).toBeGreaterThan(0);
    // Everything acked: the survivor's dispatch drops every drained lane, the active set empties.
    const active = running.key(`lanes:{${running.key("requests")}}`);
    await waitFor(
      "the lanes to drain and go",
      async () => (await running.redis.client().scard(active)) === 0,
      {
        timeoutMs: 30_000,
      },
    );
  });
});
