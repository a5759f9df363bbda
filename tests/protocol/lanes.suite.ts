import { describe, expect, test } from "bun:test";
import { decodeRequest, type LaneEntry, LaneQueue } from "@rsd/shared";
import { waitFor } from "../helpers/wait.ts";
import type { Suite } from "./adapters.ts";
import { enqueued, protocolFor, request } from "./observe.ts";

const tenantOf = ([, , fields]: LaneEntry) => decodeRequest(fields).tenant ?? "default";

/** TENANT_LANES: the lane scripts keep their promises on one Redis and across a cluster's slots. */
export const lanesSuite: Suite = (target) =>
  describe("lanes and fair dispatch", () => {
    test("weights 3:1 share the free terminals 3:1, and COUNT never exceeds them, on every shard", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({
        client: target().client,
        keys,
        policy: { weights: { acme: 3 }, maxInflight: 0, agingMs: 1000 },
      });
      for (let shard = 0; shard < keys.shards; shard++) {
        await queue.ensureGroup(keys.requestStreams[shard]!);
        for (let n = 0; n < 12; n++) {
          await lanes.enqueue(shard, request(`a${shard}.${n}`, { tenant: "acme" }), 3);
          await lanes.enqueue(shard, request(`g${shard}.${n}`, { tenant: "globex" }), 3);
        }
        const first = await lanes.dispatch(shard, "pod-a", 8);
        expect(first.entries).toHaveLength(8);
        const picked = first.entries.map(tenantOf);
        expect(picked.filter((tenant) => tenant === "acme")).toHaveLength(6);
        expect(first.counts).toEqual([
          { tenant: "acme", waiting: 6, inflight: 6 },
          { tenant: "globex", waiting: 10, inflight: 2 },
        ]);
        // The script-free counts (ingress quotas, gauges) agree with the script's.
        const byTenant = (a: { tenant: string }, b: { tenant: string }) => a.tenant.localeCompare(b.tenant);
        expect((await lanes.counts(shard)).sort(byTenant)).toEqual(first.counts);
        // Every entry lives on its own tenant's lane, in this shard's slot.
        for (const [stream, , fields] of first.entries)
          expect(stream).toBe(keys.lane(shard, decodeRequest(fields).tenant, 3));
      }
    });

    test("u=0 overtakes its tenant's backlog; default (u=3) stays the shard stream", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({ client: target().client, keys });
      await queue.ensureGroup(keys.requests);
      for (let n = 0; n < 5; n++) await enqueued(queue, keys.requests, request(`slow${n}`));
      await lanes.enqueue(0, request("urgent"), 0);
      const { entries } = await lanes.dispatch(0, "pod-a", 2);
      expect(entries.map(([, , fields]) => decodeRequest(fields).id)).toEqual(["urgent", "slow0"]);
      expect(entries[1]![0]).toBe(keys.requests);
    });

    test("a less urgent entry older than the urgency gap × agingMs goes first (no starvation)", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({
        client: target().client,
        keys,
        policy: { weights: {}, maxInflight: 0, agingMs: 1 },
      });
      await queue.ensureGroup(keys.requests);
      await lanes.enqueue(0, request("old-u7"), 7);
      const enqueuedAt = Date.now();
      await waitFor("10 ms to pass", () => Date.now() > enqueuedAt + 10);
      await lanes.enqueue(0, request("new-u0"), 0);
      const { entries } = await lanes.dispatch(0, "pod-a", 1);
      expect(entries.map(([, , fields]) => decodeRequest(fields).id)).toEqual(["old-u7"]);
    });

    test("TENANT_MAX_INFLIGHT caps a tenant; its free share goes to the others", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({
        client: target().client,
        keys,
        policy: { weights: {}, maxInflight: 2, agingMs: 1000 },
      });
      await queue.ensureGroup(keys.requests);
      for (let n = 0; n < 6; n++) await lanes.enqueue(0, request(`a${n}`, { tenant: "acme" }), 3);
      for (let n = 0; n < 2; n++) await lanes.enqueue(0, request(`b${n}`, { tenant: "bob" }), 3);
      const { entries } = await lanes.dispatch(0, "pod-a", 10);
      expect(entries.map(tenantOf).sort()).toEqual(["acme", "acme", "bob", "bob"]);
    });

    test("anticipation: a terminal is held for an under-share tenant with work running and none waiting", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({ client: target().client, keys });
      await queue.ensureGroup(keys.requests);
      await lanes.enqueue(0, request("b0", { tenant: "bob" }), 3);
      expect((await lanes.dispatch(0, "pod-a", 1)).entries).toHaveLength(1);
      for (let n = 0; n < 10; n++) await lanes.enqueue(0, request(`a${n}`, { tenant: "acme" }), 3);
      // bob: 1 running, none waiting, share (1 + 4) / 2 > 1 + 1 - 1: one of the 4 is kept for him.
      const held = await lanes.dispatch(0, "pod-a", 4, true);
      expect(held.entries.map(tenantOf)).toEqual(["acme", "acme", "acme"]);
      expect(held.held).toBe(1);
      expect(held.wakeAfter).toBeDefined();
      // Without holding (the episode ran out), the kept terminal goes to whoever waits.
      const next = await lanes.dispatch(0, "pod-a", 1, false);
      expect(next.entries.map(tenantOf)).toEqual(["acme"]);
      expect(next.held).toBe(0);
      // bob's next request takes a terminal at once.
      await lanes.enqueue(0, request("b1", { tenant: "bob" }), 3);
      expect((await lanes.dispatch(0, "pod-a", 1, true)).entries.map(tenantOf)).toEqual(["bob"]);
    });

    test("a drained lane leaves the active set and Redis; an idle dispatch says where to wait", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({ client: target().client, keys });
      await queue.ensureGroup(keys.requests);
      await lanes.enqueue(0, request("once", { tenant: "acme" }), 5);
      const lane = keys.lane(0, "acme", 5);
      expect(await lanes.activeStreams(0)).toEqual([lane]);
      const { entries } = await lanes.dispatch(0, "pod-a", 4);
      expect(entries).toHaveLength(1);
      // Still pending: the lane stays.
      expect((await lanes.dispatch(0, "pod-a", 4)).counts).toEqual([
        { tenant: "acme", waiting: 0, inflight: 1 },
      ]);
      await queue.ack([{ stream: lane, id: entries[0]![1] }]);
      const idle = await lanes.dispatch(0, "pod-a", 4);
      expect(idle.entries).toEqual([]);
      expect(idle.wakeAfter).toBeDefined();
      expect(await lanes.activeStreams(0)).toEqual([]);
      expect(await target().admin.exists(lane)).toBe(0);
    });

    test("the idle wait wakes on lane work of its shard", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const lanes = new LaneQueue({ client: target().client, keys });
      await queue.ensureGroup(keys.requests);
      const idle = await lanes.dispatch(0, "pod-a", 1);
      // Within the commands connection's 2 s limit. The wait holds this connection (in a proxy it
      // is the reader's own), so the bell rings from another one, as an ingress's enqueue does.
      const woke = lanes.waitForWork(0, idle.wakeAfter!, 1500);
      await target().admin.xadd(keys.bell(0), "MAXLEN", "1", "*", "b", "1");
      expect(await woke).toBe(true);
      // Work that lands between the dispatch and the wait is not missed: the wait starts at the ids
      // the dispatch returned, not at "$".
      const again = await lanes.dispatch(0, "pod-a", 1);
      await target().admin.xadd(keys.requests, "*", "m", "x");
      expect(await lanes.waitForWork(0, again.wakeAfter!, 100)).toBe(true);
    });
  });
