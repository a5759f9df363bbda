import { describe, expect, test } from "bun:test";
import { decodeRequest } from "@rsd/shared";
import { waitFor } from "../helpers/wait.ts";
import type { Suite } from "./adapters.ts";
import { deliver, enqueued, pendingEntries, protocolFor, request } from "./observe.ts";

/** Taking over the work of a pod that stopped, and keeping one's own. */
export const claimsSuite: Suite = (target) =>
  describe("claims", () => {
    test("claim idle: nothing younger than the threshold, then everything, a page at a time", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const messages = [request("c1"), request("c2"), request("c3")];
      await deliver(queue, { messages });
      const stream = keys.requests;
      const young = await queue.claimIdle({
        stream,
        pod: "pod-b",
        minIdleMs: 600_000,
        cursor: "0-0",
        count: 10,
      });
      expect(young.entries).toEqual([]);

      await waitFor("the entries to be idle 50 ms", async () =>
        (await pendingEntries(target(), keys)).every(({ idleMs }) => idleMs >= 50),
      );
      const first = await queue.claimIdle({ stream, pod: "pod-b", minIdleMs: 50, cursor: "0-0", count: 2 });
      expect(first.entries).toHaveLength(2);
      expect(first.next).not.toBe("0-0");
      const rest = await queue.claimIdle({
        stream,
        pod: "pod-b",
        minIdleMs: 50,
        cursor: first.next,
        count: 2,
      });
      expect(rest.next).toBe("0-0");
      const claimed = [...first.entries, ...rest.entries];
      expect(claimed.map(([, fields]) => decodeRequest(fields!))).toEqual(messages);
      const pending = await pendingEntries(target(), keys);
      expect(pending.map(({ consumer, deliveries }) => [consumer, deliveries])).toEqual([
        ["pod-b", 2],
        ["pod-b", 2],
        ["pod-b", 2],
      ]);
    });

    test("claim idle: a pending entry deleted from the stream comes back as deleted, to be acked", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const delivered = await deliver(queue, { messages: [request("g1"), request("g2")] });
      const gone = delivered[0]!.entry.id;
      await target().admin.xdel(keys.requests, gone);
      const page = await queue.claimIdle({
        stream: keys.requests,
        pod: "pod-b",
        minIdleMs: 0,
        cursor: "0-0",
        count: 10,
      });
      expect(page.deleted).toEqual([gone]);
      expect(page.entries.map(([id]) => id)).toEqual([delivered[1]!.entry.id]);
    });

    test("keep claims: the idle time of held entries resets on every shard, without a delivery", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      const held = [];
      for (const stream of keys.requestStreams)
        held.push(
          ...(await deliver(queue, { stream, messages: [request(`k-${stream}`)] })).map(({ entry }) => entry),
        );
      const idle = async () =>
        (
          await Promise.all(keys.requestStreams.map((stream) => pendingEntries(target(), keys, stream)))
        ).flat();
      await waitFor("the held entries to be idle 100 ms", async () =>
        (await idle()).every(({ idleMs }) => idleMs >= 100),
      );
      // Load-proof: without a reset each idle time would exceed the time since keepClaims began
      // by at least the 100 ms it had already; with one, none can exceed it (20 ms for rounding).
      const started = Date.now();
      await queue.keepClaims("pod-a", held);
      const after = await idle();
      const elapsed = Date.now() - started;
      for (const { idleMs } of after) expect(idleMs).toBeLessThanOrEqual(elapsed + 20);
      expect((await idle()).map(({ consumer, deliveries }) => [consumer, deliveries])).toEqual(
        held.map(() => ["pod-a", 1]),
      );
    });

    test("forget consumers: only gone ones that own nothing, never the caller", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const stream = keys.requests;
      await deliver(queue, { pod: "pod-busy", messages: [request("f1")] });
      for (const pod of ["pod-gone", "pod-self"]) {
        const [done] = await deliver(queue, { pod, messages: [request(`f-${pod}`)] });
        await queue.ack([done!.entry]);
      }
      expect(await queue.forgetConsumers(stream, "pod-self", 600_000)).toEqual([]);
      expect(await queue.forgetConsumers(stream, "pod-self", 0)).toEqual(["pod-gone"]);
      const consumers = (await target().admin.call("XINFO", "CONSUMERS", stream, keys.group)) as string[][];
      expect(consumers.map((consumer) => consumer[1]).sort()).toEqual(["pod-busy", "pod-self"]);
      expect(await queue.forgetConsumers(keys.replies("none"), "pod-self", 0)).toEqual([]);
    });
  });

/** The request streams' bounds and counts. */
export const trimSuite: Suite = (target) =>
  describe("trimming and counts", () => {
    test("trim never drops a pending or undelivered entry, and touches no other shard", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      const [stream, other] = keys.requestStreams as [string, string];
      const delivered = await deliver(queue, {
        stream,
        messages: [0, 1, 2, 3, 4].map((n) => request(`t${n}`)),
      });
      const ids = delivered.map(({ entry }) => entry.id);
      for (let n = 5; n < 10; n++) await enqueued(queue, stream, request(`t${n}`));
      const undelivered = (await target().admin.xrange(stream, "-", "+")).slice(5).map(([id]) => id);
      await queue.ack([0, 1, 3].map((n) => delivered[n]!.entry));
      await queue.ensureGroup(other);
      for (let n = 0; n < 3; n++) await enqueued(queue, other, request(`o${n}`));

      expect(await queue.trim(stream)).toBe(ids[2]);
      const left = (await target().admin.xrange(stream, "-", "+")).map(([id]) => id);
      expect(left).toEqual([ids[2]!, ids[4]!, ...undelivered]);
      // Nothing delivered on the other shard: nothing to trim there.
      expect(await queue.trim(other)).toBeUndefined();
      expect(await target().admin.xlen(other)).toBe(3);

      // Nothing pending: the bound is the first undelivered entry.
      await queue.ack([delivered[2]!.entry, delivered[4]!.entry]);
      const [ms, seq] = ids[4]!.split("-");
      expect(await queue.trim(stream)).toBe(`${ms}-${Number(seq) + 1}`);
      expect((await target().admin.xrange(stream, "-", "+")).map(([id]) => id)).toEqual(undelivered);
    });

    test("acknowledged entries behind a long-running one go, a few windows per call", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const delivered = await deliver(queue, {
        messages: Array.from({ length: 40 }, (_, n) => request(`w${n}`)),
      });
      for (let n = 0; n < 5; n++) await enqueued(queue, keys.requests, request(`u${n}`));
      const all = (await target().admin.xrange(keys.requests, "-", "+")).map(([id]) => id);
      const held = [0, 7, 8, 23, 39].map((n) => delivered[n]!.entry.id);
      await queue.ack(delivered.filter(({ entry }) => !held.includes(entry.id)).map(({ entry }) => entry));
      const mustStay = [...held, ...all.slice(40)];

      // Pages of 2 live entries, 8 per call: 16 looked at per call, so it takes a few calls.
      let left = all;
      for (let call = 0; call < 10 && left.length > mustStay.length; call++) {
        expect(await queue.trim(keys.requests, 2)).toBe(held[0]);
        const now = (await target().admin.xrange(keys.requests, "-", "+")).map(([id]) => id);
        expect(now.length).toBeLessThan(left.length);
        for (const id of mustStay) expect(now).toContain(id);
        left = now;
      }
      expect(left).toEqual(mustStay);
      expect(await queue.counts(keys.requests)).toMatchObject({ length: 10, lag: 5, pending: 5 });
    });

    test("a stream without the group, or no stream at all, is left alone and counts as empty", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      expect(await queue.counts(keys.requests)).toMatchObject({ length: 0, lag: 0, pending: 0 });
      expect(await queue.trim(keys.requests)).toBeUndefined();
      for (let n = 0; n < 3; n++) await enqueued(queue, keys.requests, request(`ng${n}`));
      expect(await queue.trim(keys.requests)).toBeUndefined();
      expect(await queue.counts(keys.requests)).toMatchObject({ length: 3, lag: 3, pending: 0 });
      expect(await queue.ensureGroup(keys.requests)).toBe(true);
      expect(await queue.ensureGroup(keys.requests)).toBe(false);
      expect(await queue.counts(keys.requests)).toMatchObject({ length: 3, lag: 3, pending: 0 });
    });

    test("counts: length, lag and pending per shard; lag still known after a delete in the unread range", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      for (const [index, stream] of keys.requestStreams.entries()) {
        await deliver(queue, { stream, messages: [request(`n${index}`)] });
        for (let n = 0; n <= index; n++) await enqueued(queue, stream, request(`m${index}.${n}`));
        expect(await queue.counts(stream)).toMatchObject({ length: index + 2, lag: index + 1, pending: 1 });
      }
      // Redis cannot tell the lag once an undelivered entry was deleted; added − read stands in.
      const stream = keys.requestStreams[2]!;
      const [, undelivered] = (await target().admin.xrange(stream, "-", "+")).map(([id]) => id);
      await target().admin.xdel(stream, undelivered!);
      const counts = await queue.counts(stream);
      expect(counts).toMatchObject({ length: 3, pending: 1 });
      expect(counts.lag).toBeGreaterThanOrEqual(2);
    });
  });
