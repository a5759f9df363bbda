import { describe, expect, test } from "bun:test";
import {
  type Completion,
  type DeadLetter,
  DeadLetters,
  decodeDeadLetter,
  decodeRequest,
  encodeDeadLetter,
  encodeReply,
  FleetRegistry,
  heartbeatLiveWithinMs,
  IdempotencyStore,
  LaneQueue,
  RedisCompletions,
  ReplyChannel,
  type RequestMessage,
  type StreamKeys,
} from "@rsd/shared";
import type { Suite } from "./adapters.ts";
import { deliver, protocolFor, request, streamEntries, streamIds } from "./observe.ts";

/** The keys beside the request streams: reply streams, idempotency keys, the fleet, dead letters. */
export const storesSuite: Suite = (target) =>
  describe("stores", () => {
    /** `count` replies appended to `channel` as proxies write them (fields of encodeReply). */
    const appendReply = (channel: ReplyChannel, n: number) => {
      const fields = encodeReply({
        id: `r${n}`,
        status: "completed",
        pod: "p",
        terminal: 0,
        queuedMs: 0,
        processingMs: 0,
      });
      return target().client.xadd(channel.stream, fields, { noCreate: true });
    };
    const appendReplies = async (channel: ReplyChannel, count: number) => {
      const ids: string[] = [];
      for (let n = 0; n < count; n++) ids.push((await appendReply(channel, n))!);
      return ids;
    };

    test("reply channel: created explicitly, kept alive, read after a position, trimmed behind it", async () => {
      const keys = target().keys();
      const channel = new ReplyChannel({ client: target().client, stream: keys.replies("i1"), ttlS: 60 });
      // NOMKSTREAM writers cannot create it; its owner does, with its TTL.
      expect(await appendReply(channel, 0)).toBeNull();
      expect(await channel.maintain("0")).toBe(true);
      expect(await target().admin.ttl(channel.stream)).toBeGreaterThan(0);
      expect(await channel.maintain("0")).toBe(false);

      expect(await channel.read({ after: "0", count: 10, blockMs: 10 })).toHaveLength(1); // its marker
      const ids = await appendReplies(channel, 300);
      const readUpTo = ids[249]!;
      const after = await channel.read({ after: readUpTo, count: 100, blockMs: 100 });
      expect(after.map(([id]) => id)).toEqual(ids.slice(250));
      expect(await channel.read({ after: ids[299]!, count: 10, blockMs: 10 })).toEqual([]);
      expect(await channel.maintain(readUpTo)).toBe(false);
      // Approximate (whole macro nodes): some of what was read goes, nothing after it does.
      const left = await streamIds(target(), channel.stream);
      expect(left.length).toBeLessThan(301);
      expect(left.slice(-51)).toEqual(ids.slice(249));

      await channel.remove();
      expect(await target().admin.exists(channel.stream)).toBe(0);
      expect(await channel.maintain("0")).toBe(true);
    });

    test("reply channel: a reader that stops advancing is still capped near maxLength", async () => {
      const keys = target().keys();
      const channel = new ReplyChannel({
        client: target().client,
        stream: keys.replies("stuck"),
        ttlS: 60,
        maxLength: 50,
      });
      await channel.maintain("0");
      const ids = await appendReplies(channel, 400);
      await channel.maintain("0");
      const left = await streamIds(target(), channel.stream);
      expect(left.length).toBeGreaterThanOrEqual(50);
      expect(left.length).toBeLessThan(250);
      expect(left.slice(-50)).toEqual(ids.slice(-50));
    });

    test("idempotency: the first claim wins, later ones see it (same or other hash) until its owner releases it", async () => {
      const keys = target().keys();
      const store = new IdempotencyStore({ client: target().client, keys });
      const first = { requestId: "req-1", hash: "a1b2" };
      expect(await store.claim("order-42", first, 60)).toBeUndefined();
      expect(await store.claim("order-42", { requestId: "req-2", hash: "a1b2" }, 60)).toEqual(first);
      expect(await store.claim("order-42", { requestId: "req-3", hash: "ffff" }, 60)).toEqual(first);
      expect(await target().admin.ttl(keys.idempotency("order-42"))).toBeGreaterThan(0);
      expect(await store.claim("order-43", { requestId: "req-4", hash: "a1b2" }, 60)).toBeUndefined();

      // Only its owner's release deletes it.
      expect(await store.releaseIfOwner("order-42", "req-2")).toBe(false);
      expect(await store.claim("order-42", { requestId: "req-2", hash: "a1b2" }, 60)).toEqual(first);
      expect(await store.releaseIfOwner("order-42", "req-1")).toBe(true);
      const next = { requestId: "req-5", hash: "ffff" };
      expect(await store.claim("order-42", next, 60)).toBeUndefined();
      expect(await store.claim("order-42", first, 60)).toEqual(next);
    });

    test("fleet: live beats within the window, stale ones kept a while, long-gone ones removed; leave", async () => {
      const keys = target().keys();
      const fleet = new FleetRegistry({ client: target().client, keys });
      const now = Date.now();
      const beat = (pod: string, ageMs: number) => ({
        pod,
        terminals: 5,
        busy: 0,
        handler: "simulate",
        processingMs: 150,
        seenAt: now - ageMs,
        limit: 5,
      });
      await fleet.beat(beat("fresh", 0));
      await fleet.beat(beat("stale", heartbeatLiveWithinMs + 1000));
      await fleet.beat(beat("gone", 6 * heartbeatLiveWithinMs + 1000));
      expect(await fleet.live(now)).toEqual([beat("fresh", 0)]);
      expect(Object.keys(await target().admin.hgetall(keys.fleet)).sort()).toEqual(["fresh", "stale"]);

      await fleet.beat(beat("fresh", -500));
      expect(await fleet.live(now)).toEqual([beat("fresh", -500)]);
      await fleet.leave("fresh");
      expect(await fleet.live(now)).toEqual([]);
    });

    test("dead letters: capped by count on every add, bounded by age on Redis's clock", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const completions = new RedisCompletions({ client: target().client, keys, deadLetterMaxCount: 10 });
      // A dead letter an older proxy wrote an hour ago (by Redis's clock: stream ids are made of it).
      const [seconds] = (await target().admin.call("TIME")) as [string, string];
      const old: DeadLetter = { entry: "1-0", error: "old", failedAt: 1 };
      await target().admin.xadd(keys.dead, `${(Number(seconds) - 3600) * 1000}-0`, ...encodeDeadLetter(old));

      const delivered = await deliver(queue, {
        messages: Array.from({ length: 250 }, (_, n) => request(`x${n}`)),
      });
      const batch: Completion[] = delivered.map(({ entry, message }) => ({
        entry,
        replyTo: "",
        reply: {
          id: message.id,
          status: "failed",
          error: "e",
          pod: "p",
          terminal: 0,
          queuedMs: 0,
          processingMs: 0,
        },
        resultTtlS: 0,
        deadLetter: { requestId: message.id, entry: entry.id, attempts: 3, error: "e", failedAt: Date.now() },
      }));
      expect(await completions.write(batch)).toBeUndefined();
      // MAXLEN ~: whole macro nodes (100 entries) go, so at least the cap and less than cap + a node stay.
      const capped = await streamEntries(target(), keys.dead);
      expect(capped.length).toBeGreaterThanOrEqual(10);
      expect(capped.length).toBeLessThanOrEqual(110);
      expect(capped.map(([, fields]) => decodeDeadLetter(fields).requestId).slice(-10)).toEqual(
        batch.slice(-10).map(({ reply }) => reply.id),
      );

      // Age: rewrite history with the old one first again, then trim to the last minute.
      await target().admin.del(keys.dead);
      await target().admin.xadd(keys.dead, `${(Number(seconds) - 3600) * 1000}-0`, ...encodeDeadLetter(old));
      await completions.write([batch[0]!]);
      const letters = new DeadLetters({ client: target().client, keys });
      expect(await letters.trimOlderThan(60)).toBe(1);
      const left = await streamEntries(target(), keys.dead);
      expect(left.map(([, fields]) => decodeDeadLetter(fields))).toEqual([batch[0]!.deadLetter!]);
      expect(await letters.trimOlderThan(60)).toBe(0);
    });

    /** Writes the dead letter of `failed` (a tenant's request after its last attempt); its entry id. */
    const deadLettered = async (
      keys: StreamKeys,
      failed: RequestMessage,
      urgency?: number,
    ): Promise<string> => {
      const letter: DeadLetter = {
        requestId: failed.id,
        entry: "1-0",
        attempts: failed.attempt,
        error: "boom",
        failedAt: Date.now(),
        payload: failed.payload,
        request: failed,
        ...(failed.tenant !== undefined ? { tenant: failed.tenant } : {}),
        ...(urgency !== undefined ? { urgency } : {}),
      };
      return (await target().client.xadd(keys.dead, encodeDeadLetter(letter))) as string;
    };

    test("dead letters: a replay re-enqueues the request as attempt 1 and marks its tenant's outcome pending", async () => {
      const keys = target().keys(target().shards);
      const letters = new DeadLetters({ client: target().client, keys });
      const failed = request("poison", { tenant: "acme", resultTtlS: 60, attempt: 3 });
      const id = await deadLettered(keys, failed);
      const outcome = await letters.replay(id);
      expect(outcome.status).toBe("replayed");
      // The tenant's own stored outcome, never the default tenant's key of the same id.
      const stored = await target().admin.get(keys.result(failed.id, "acme"));
      expect(JSON.parse(stored ?? "{}")).toMatchObject({ id: failed.id, status: "pending" });
      expect(await target().admin.exists(keys.result(failed.id))).toBe(0);
      expect(await target().admin.xlen(keys.dead)).toBe(0);
      const queued = (
        await Promise.all(keys.requestStreams.map((stream) => streamEntries(target(), stream)))
      ).flat();
      expect(queued).toHaveLength(1);
      expect(await letters.replay(id)).toEqual({ status: "missing" });
    });

    test("dead letters with TENANT_LANES: a tenant's request is replayed onto its lane, where dispatch finds it", async () => {
      const keys = target().keys(target().shards);
      const letters = new DeadLetters({ client: target().client, keys, lanes: true });
      const failed = request("poison-lane", { tenant: "acme", resultTtlS: 60, attempt: 3 });
      const id = await deadLettered(keys, failed);
      const outcome = await letters.replay(id);
      expect(outcome.status).toBe("replayed");
      // Not on a shard stream: on acme's lane (normal urgency) of one shard, in its active set.
      for (const stream of keys.requestStreams) expect(await streamEntries(target(), stream)).toEqual([]);
      const lanes = new LaneQueue({ client: target().client, keys });
      const found: string[] = [];
      for (let shard = 0; shard < keys.shards; shard++) {
        for (const [stream, , fields] of (await lanes.dispatch(shard, "pod-a", 4)).entries) {
          expect(stream).toBe(keys.lane(shard, "acme", 3));
          const replayed = decodeRequest(fields);
          expect(replayed).toMatchObject({ id: failed.id, attempt: 1, tenant: "acme" });
          found.push(replayed.id);
        }
      }
      expect(found).toEqual([failed.id]);
      const stored = await target().admin.get(keys.result(failed.id, "acme"));
      expect(JSON.parse(stored ?? "{}")).toMatchObject({ id: failed.id, status: "pending" });
      expect(await target().admin.xlen(keys.dead)).toBe(0);
      expect(await letters.replay(id)).toEqual({ status: "missing" });
    });

    test("dead letters with TENANT_LANES: a replay keeps the urgency the request was read at, default tenant too", async () => {
      const keys = target().keys(target().shards);
      const letters = new DeadLetters({ client: target().client, keys, lanes: true });
      const urgent = request("poison-urgent", { tenant: "acme", attempt: 3 });
      const defaultUrgent = request("poison-default-urgent", { attempt: 3 });
      const normal = request("poison-default-normal", { attempt: 3 });
      for (const [failed, urgency] of [
        [urgent, 0],
        [defaultUrgent, 1],
        [normal, undefined],
      ] as const)
        expect((await letters.replay(await deadLettered(keys, failed, urgency))).status).toBe("replayed");
      // The normal default one is on a shard stream, as without lanes.
      const onShardStreams = (
        await Promise.all(keys.requestStreams.map((stream) => streamEntries(target(), stream)))
      ).flat();
      expect(onShardStreams.map(([, fields]) => decodeRequest(fields).id)).toEqual([normal.id]);
      // The others shard by shard, each on the lane its urgency names.
      const lanes = new LaneQueue({ client: target().client, keys });
      const found = new Map<string, { shard: number; stream: string }>();
      for (let shard = 0; shard < keys.shards; shard++)
        for (const [stream, , fields] of (await lanes.dispatch(shard, "pod-a", 8)).entries)
          found.set(decodeRequest(fields).id, { shard, stream });
      const at = (id: string) => found.get(id) ?? { shard: -1, stream: "not found" };
      expect(at(urgent.id).stream).toBe(keys.lane(at(urgent.id).shard, "acme", 0));
      expect(at(defaultUrgent.id).stream).toBe(keys.lane(at(defaultUrgent.id).shard, undefined, 1));
      expect(await target().admin.xlen(keys.dead)).toBe(0);
    });

    test("node-wide facts: INFO from every master, and Redis's clock", async () => {
      const infos = await target().client.infoEveryMaster("memory");
      expect(infos).toHaveLength(target().masters.length);
      for (const info of infos) expect(info).toMatch(/used_memory:\d+/);
      const before = Date.now();
      const redisNow = await target().client.time();
      // The same machine's clock: Redis's TIME lies between two readings of ours (1 ms rounding).
      expect(redisNow).toBeGreaterThanOrEqual(before - 1);
      expect(redisNow).toBeLessThanOrEqual(Date.now() + 1);
    });
  });
