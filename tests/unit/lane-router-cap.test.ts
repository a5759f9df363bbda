import { describe, expect, test } from "bun:test";
import { type LaneQueue, StreamKeys, type TenantLaneCounts } from "@rsd/shared";
import { LaneRouter } from "../../ingress/src/tenants/lane-router.ts";

/** The lanes' counts the router polls, as the test sets them (or a Redis that is away). */
class FakeCounts {
  current: TenantLaneCounts[] = [];
  failing = false;
  asLaneQueue(): LaneQueue {
    const counts = async (): Promise<TenantLaneCounts[]> => {
      if (this.failing) throw new Error("Connection closed");
      return this.current;
    };
    return { counts } as unknown as LaneQueue;
  }
}

function setup(tenantMaxActive: number) {
  const keys = new StreamKeys("unit-cap");
  const router = new LaneRouter({
    lanes: {} as LaneQueue, // enqueue is not called here
    keys,
    tenantMaxQueueDepth: 0,
    maxQueueDepth: 0,
    tenantMaxActive,
  });
  const poll = new FakeCounts();
  const active = (...tenants: string[]) => {
    poll.current = tenants.map((tenant) => ({ tenant, waiting: 1, inflight: 0 }));
  };
  return { router, poll, active, refresh: () => router.refresh(poll.asLaneQueue()) };
}

describe("TENANT_MAX_ACTIVE in the lane router: check and count in one step", () => {
  test("new tenants beyond the cap are refused 503; admitted ones and `default` carry on", () => {
    const { router } = setup(2);
    const now = Date.now();
    expect(router.admit("a", now)).toBeUndefined();
    expect(router.admit("b", now)).toBeUndefined();
    const refused = router.admit("c", now);
    expect(refused?.reason).toBe("tenants");
    expect(refused?.error.status).toBe(503);
    expect(refused?.error.message).toContain(
      "2 tenants have requests waiting or running (TENANT_MAX_ACTIVE)",
    );
    expect(router.admit("a", now)).toBeUndefined();
    expect(router.admit(undefined, now)).toBeUndefined();
    expect(router.polling).toBe(true);
  });

  test("a poll that sees the tenants idle opens the cap, but only for admissions older than its grace", async () => {
    const { router, refresh } = setup(2);
    const longAgo = Date.now() - 5_000;
    router.admit("a", longAgo);
    router.admit("b", Date.now());
    await refresh(); // nothing in the lanes: "a" was admitted long before, "b" just now
    expect(router.admit("c", Date.now())).toBeUndefined(); // "a" is gone, "b" still counts
    expect(router.admit("d", Date.now())?.reason).toBe("tenants");
  });

  test("tenants the poll sees with lanes keep counting however long ago they were admitted", async () => {
    const { router, active, refresh } = setup(2);
    router.admit("a", Date.now() - 5_000);
    active("a", "b", "default");
    await refresh();
    expect(router.admit("b", Date.now())).toBeUndefined();
    expect(router.admit("c", Date.now())?.reason).toBe("tenants");
    active("b");
    await refresh();
    expect(router.admit("c", Date.now())).toBeUndefined();
  });

  test("a failing poll keeps the cap closed: nothing is forgotten", async () => {
    const { router, poll, refresh } = setup(1);
    router.admit("a", Date.now() - 5_000);
    poll.failing = true;
    await expect(refresh()).rejects.toThrow("Connection closed");
    expect(router.admit("b", Date.now())?.reason).toBe("tenants");
  });

  test("0 turns the cap off and remembers no tenant", () => {
    const { router } = setup(0);
    for (let n = 0; n < 1000; n++) expect(router.admit(`t${n}`, Date.now())).toBeUndefined();
    expect(router.polling).toBe(false);
    expect((router as unknown as { admitted: Map<string, number> }).admitted.size).toBe(0);
  });
});
