import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CircuitBreaker, type RedisClient, StreamKeys } from "@rsd/shared";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { protocolClient } from "../protection/support.ts";
import { SseClient } from "./sse-client.ts";

type Snapshot = {
  breaker: { state: string; openLeftMs: number } | null;
  tenants: { tenant: string; waiting: number }[] | null;
};

/**
 * The console shows what the other features know without asking Redis again: the breaker state
 * the ingress polls (BREAKER=on) and the per-tenant counts it polls for its quotas (TENANT_LANES).
 */
describe("console events with the breaker and tenant lanes on", () => {
  let stack: Stack;
  let client: RedisClient;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 1,
      processingMs: 1500,
      env: { BREAKER: "on", TENANT_LANES: "on" },
      ingressEnv: { ADMIN_EVENT_INTERVAL_MS: "100" },
    });
    client = protocolClient(stack.redis, "console-protection");
  }, 60_000);
  afterAll(async () => {
    client?.close();
    await stack?.stop();
  }, 60_000);

  /** The first snapshot that satisfies `wanted`. */
  async function snapshotWhere(wanted: (snapshot: Snapshot) => boolean): Promise<Snapshot> {
    const events = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    try {
      return await waitFor("a matching snapshot", () => events.snapshots<Snapshot>().find(wanted), {
        timeoutMs: 20_000,
      });
    } finally {
      events.close();
    }
  }

  test("a tenant's waiting requests are listed, most first", async () => {
    const send = (tenant: string) =>
      fetch(`${stack.ingress.url}/api/requests`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-tenant": tenant, prefer: "respond-async" },
        body: JSON.stringify({ payload: { tenant }, timeoutMs: 30_000 }),
      }).then((response) => response.status);
    // One terminal: one request runs, the rest wait in their tenants' lanes.
    const statuses = await Promise.all([...Array(4)].map(() => send("acme")).concat(send("globex")));
    expect(statuses.every((status) => status === 202)).toBe(true);
    const snapshot = await snapshotWhere(
      (s) => (s.tenants?.find((t) => t.tenant === "acme")?.waiting ?? 0) >= 2,
    );
    const acme = snapshot.tenants?.findIndex((t) => t.tenant === "acme") ?? -1;
    const globex = snapshot.tenants?.findIndex((t) => t.tenant === "globex") ?? -1;
    expect(acme).toBe(0);
    if (globex >= 0) expect(globex).toBeGreaterThan(acme);
  });

  test("the breaker's state: closed, then open with the time it has left", async () => {
    expect((await snapshotWhere((s) => s.breaker !== null)).breaker?.state).toBe("closed");
    const breaker = new CircuitBreaker({ client, keys: new StreamKeys(stack.prefix) });
    const opened = await breaker.report(0, 50, {
      failureRatePercent: 50,
      minCalls: 10,
      windowMs: 10_000,
      openMs: 60_000,
      probes: 1,
    });
    expect(opened.state).toBe(2);
    const open = await snapshotWhere((s) => s.breaker?.state === "open");
    expect(open.breaker?.openLeftMs).toBeGreaterThan(0);
    expect(open.breaker?.openLeftMs).toBeLessThanOrEqual(60_000);
  });
});
