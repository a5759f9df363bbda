import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). Every assertion is on counts and orderings the backend saw, never on timings.
setDefaultTimeout(90_000);

/**
 * TENANT_LANES=on, one proxy with 4 terminals in front of a backend that records the order it is
 * called in (the path names the tenant and the urgency; X-Tenant itself is never forwarded).
 */
describe("weighted fair scheduling, priority and quotas (TENANT_LANES=on)", () => {
  let stack: Stack;
  const upstream = new TestUpstream();
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 0,
      env: { TENANT_LANES: "on" },
      ingressEnv: { TENANT_MAX_QUEUE_DEPTH: "50" },
      proxyEnv: {
        HANDLER: "http",
        UPSTREAM_URL: upstream.url,
        TERMINALS: "4",
        TENANT_WEIGHTS: "acme=3,globex=1",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    upstream.stop();
  }, 60_000);

  const call = (tenant: string, path: string, headers: Record<string, string> = {}) =>
    fetch(`${stack.ingress.url}/proxy/${path}`, { headers: { "x-tenant": tenant, ...headers } }).then(
      async (response) => ({
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        body: await response.text(),
      }),
    );
  const lane = (tenant: string, urgency: number) =>
    stack.key(`lane:{${stack.key("requests")}}:${tenant}:${urgency}`);
  const waitingIn = async (key: string) =>
    Number(
      await stack.redis
        .client()
        .xlen(key)
        .catch(() => 0),
    );
  const seenFrom = (prefix: string) => upstream.seen.filter((call) => call.path.startsWith(prefix));

  test("weights 3:1, both backlogged: acme gets 3 of every 4 terminals", async () => {
    const answers = [
      ...Array.from({ length: 40 }, (_, n) => call("acme", `w/acme/${n}?ms=30`)),
      ...Array.from({ length: 40 }, (_, n) => call("globex", `w/globex/${n}?ms=30`)),
    ];
    await waitFor(
      "both backlogs queued",
      async () => (await waitingIn(lane("acme", 3))) === 40 && (await waitingIn(lane("globex", 3))) === 40,
      { timeoutMs: 30_000 },
    );
    await stack.startProxy("proxy-1");
    expect((await Promise.all(answers)).map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const firstHalf = seenFrom("/w/").slice(0, 40);
    const acme = firstHalf.filter((call) => call.path.startsWith("/w/acme/")).length;
    // Ideal 30 of 40; the bound of docs/architecture.md allows ±1 terminal at any moment.
    expect(acme).toBeGreaterThanOrEqual(26);
    expect(acme).toBeLessThanOrEqual(34);
    // The drained lanes are gone: an idle tenant costs nothing.
    await waitFor(
      "the lanes to be dropped",
      async () => (await stack.redis.client().exists(lane("acme", 3), lane("globex", 3))) === 0,
    );
  });

  test("u=0 overtakes its tenant's u=3 backlog; the backlog still completes", async () => {
    const bulk = Array.from({ length: 40 }, (_, n) => call("bulk", `p/slow/${n}?ms=30`));
    await waitFor("the backlog queued", async () => (await waitingIn(lane("bulk", 3))) >= 30, {
      timeoutMs: 30_000,
    });
    const urgent = Array.from({ length: 4 }, (_, n) =>
      call("bulk", `p/urgent/${n}?ms=30`, { priority: "u=0" }),
    );
    const statuses = (await Promise.all([...bulk, ...urgent])).map((answer) => answer.status);
    expect(statuses).toEqual(statuses.map(() => 200));
    const order = seenFrom("/p/").map((call) => call.path.split("/")[2]);
    const lastUrgent = order.lastIndexOf("urgent");
    // The urgent ones went at the next free terminals, ahead of most of the backlog.
    expect(order.slice(0, lastUrgent).filter((kind) => kind === "slow").length).toBeLessThanOrEqual(20);
    expect(upstream.seen.find((call) => call.path.startsWith("/p/urgent/"))?.headers.priority).toBe("u=0");
  });

  test("TENANT_MAX_QUEUE_DEPTH: the noisy tenant gets 429 with Retry-After, the quiet one never 429 nor 503", async () => {
    let stop = false;
    const noisy: { status: number; retryAfter: string | null }[] = [];
    const flood = Array.from({ length: 80 }, async (_, worker) => {
      for (let n = 0; !stop && n < 1000; n++) {
        const answer = await call("noisy", `q/noisy/${worker}.${n}?ms=30`);
        noisy.push(answer);
        // A client's back-off after a refusal (not a wait for a condition): keeps the flood bounded.
        if (answer.status === 429) await Bun.sleep(50);
      }
    });
    const quiet: number[] = [];
    await waitFor("the noisy tenant to be refused", () => noisy.some((answer) => answer.status === 429), {
      timeoutMs: 40_000,
    });
    for (let n = 0; n < 10; n++) quiet.push((await call("quiet", `q/quiet/${n}?ms=30`)).status);
    stop = true;
    await Promise.all(flood);
    expect(quiet).toEqual(quiet.map(() => 200));
    const refused = noisy.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((answer) => answer.retryAfter === "1")).toBe(true);
    expect(noisy.filter((answer) => answer.status !== 429 && answer.status !== 200)).toEqual([]);
    expect(
      await metricValue(stack.ingress.url, "rsd_tenant_requests_total", {
        tenant: "quiet",
        status: "429",
      }).catch(() => 0),
    ).toBe(0);
    expect(
      await metricValue(stack.ingress.url, "rsd_tenant_requests_total", { tenant: "noisy", status: "429" }),
    ).toBe(refused.length);
    // Counted as the tenant's own quota, not as the queue being full for everyone.
    expect(await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "tenant_depth" })).toBe(
      refused.length,
    );
    expect(await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "depth" })).toBe(0);
  });

  test("per-tenant gauges are exported by the proxy", async () => {
    const text = await (await fetch(`${stack.proxies[0]!.url}/metrics`)).text();
    expect(text).toContain("# TYPE rsd_tenant_queue_depth gauge");
    expect(text).toContain("# TYPE rsd_tenant_terminals_busy gauge");
  });
});
