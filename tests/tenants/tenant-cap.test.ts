import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(90_000);

/**
 * TENANT_LANES=on without API keys: X-Tenant names any tenant, and each one with work is lanes
 * that every dispatch and every quota poll reads. TENANT_MAX_ACTIVE bounds how many at once.
 * No proxy at first, so the lanes keep their work while the test looks.
 */
describe("TENANT_MAX_ACTIVE bounds the tenants with work in the lanes", () => {
  let stack: Stack;
  const cap = 3;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 0,
      processingMs: 1,
      env: { TENANT_LANES: "on" },
      ingressEnv: { TENANT_MAX_ACTIVE: String(cap) },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const submit = (tenant: string | undefined, n: number) =>
    stack.request({ payload: { n } }, { prefer: "respond-async", ...(tenant ? { "x-tenant": tenant } : {}) });
  const activeLanes = () => stack.redis.client().smembers(stack.key(`lanes:{${stack.key("requests")}}`));
  let admitted: string[] = [];

  test("a burst of new tenants at once: the cap's worth get in, the rest get 503 and leave nothing in Redis", async () => {
    const tenants = Array.from({ length: 12 }, (_, n) => `burst-${n}`);
    const answers = await Promise.all(tenants.map((tenant, n) => submit(tenant, n)));
    admitted = tenants.filter((_, n) => answers[n]?.status === 202);
    expect(admitted.length).toBe(cap);
    for (const answer of answers.filter((candidate) => candidate.status !== 202)) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(String(answer.body.error)).toContain("(TENANT_MAX_ACTIVE)");
    }
    const lanes = await activeLanes();
    expect(lanes.map((lane) => lane.slice(0, lane.lastIndexOf(":"))).sort()).toEqual([...admitted].sort());
    expect(await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "tenants" })).toBe(
      12 - cap,
    );
  });

  test("an admitted tenant and the default tenant still get in; one more new tenant does not", async () => {
    expect((await submit(admitted[0], 100)).status).toBe(202);
    expect((await submit(undefined, 101)).status).toBe(202);
    expect((await submit("late-1", 102)).status).toBe(503);
  });

  test("once a proxy drains the lanes, new tenants get in again", async () => {
    await stack.startProxy("proxy-1");
    await waitFor("the lanes drained and deleted", async () => (await activeLanes()).length === 0, {
      timeoutMs: 30_000,
    });
    // The ingress learns it from its next poll (and forgets a tenant admitted within a second).
    await waitFor("a new tenant admitted", async () => (await submit("late-2", 103)).status === 202, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  });
});
