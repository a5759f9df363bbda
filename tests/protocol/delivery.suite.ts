import { describe, expect, test } from "bun:test";
import {
  type Completion,
  decodeDeadLetter,
  decodeReply,
  decodeRequest,
  isRedisError,
  isReplyEntry,
  ReplyChannel,
  type ReplyMessage,
  ResultStore,
  UnwrittenError,
} from "@rsd/shared";
import type { Suite } from "./adapters.ts";
import {
  deliver,
  enqueued,
  onEveryMaster,
  pendingEntries,
  pendingIds,
  protocolFor,
  request,
  restrictedClient,
  streamEntries,
} from "./observe.ts";

const answer = (id: string): ReplyMessage => ({
  id,
  status: "completed",
  result: `{"id":"${id}"}`,
  pod: "pod-a",
  terminal: 0,
  queuedMs: 1,
  processingMs: 2,
});

/** The delivery rules: an outcome is written before its entry is acked; retries move atomically. */
export const deliverySuite: Suite = (target) =>
  describe("delivery rules", () => {
    test("enqueue: every request of one turn lands, in order, on its shard; a refused one says why", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      const expected = new Map(keys.requestStreams.map((stream) => [stream, [] as string[]]));
      const sent: Promise<void>[] = [];
      for (let n = 0; n < 60; n++) {
        const stream = keys.requestStreams[n % keys.shards]!;
        sent.push(enqueued(queue, stream, request(`e${n}`)));
        expected.get(stream)!.push(`e${n}`);
      }
      await Promise.all(sent);
      for (const [stream, ids] of expected) {
        const entries = await streamEntries(target(), stream);
        expect(entries.map(([, fields]) => decodeRequest(fields).id)).toEqual(ids);
      }

      const user = `noenqueue-${keys.prefix}`;
      const limited = await restrictedClient(target(), user, ["~*", "+@all", "-xadd"]);
      try {
        const refused = enqueued(protocolFor(limited, keys).queue, keys.requests, request("refused"));
        expect(isRedisError(await refused.catch((error: unknown) => error), "NOPERM")).toBe(true);
      } finally {
        limited.close();
        await onEveryMaster(target(), "ACL", "DELUSER", user);
      }
    });

    test("reply before ack: on every shard, the reply, stored result and dead letter exist and the entry is acked", async () => {
      const keys = target().keys(target().shards);
      const { queue, completions } = protocolFor(target().client, keys);
      const channel = new ReplyChannel({ client: target().client, stream: keys.replies("i1"), ttlS: 60 });
      await channel.maintain("0");
      const batch: Completion[] = [];
      for (const [index, stream] of keys.requestStreams.entries()) {
        const [delivered] = await deliver(queue, { stream, messages: [request(`r${index}`)] });
        batch.push({
          entry: delivered!.entry,
          replyTo: channel.stream,
          reply: answer(`r${index}`),
          resultTtlS: 60,
          ...(index === 0
            ? { deadLetter: { requestId: "r0", entry: delivered!.entry.id, error: "e", failedAt: 1 } }
            : {}),
        });
      }
      expect(await completions.write(batch)).toBeUndefined();

      for (const stream of keys.requestStreams) expect(await pendingIds(target(), keys, stream)).toEqual([]);
      const replies = (await channel.read({ after: "0", count: 10, blockMs: 100 }))
        .map(([, fields]) => fields)
        .filter(isReplyEntry)
        .map(decodeReply);
      expect(replies.map(({ id }) => id).sort()).toEqual(["r0", "r1", "r2"]);
      const store = new ResultStore({ client: target().client, keys });
      for (const item of batch) expect(await store.read(item.reply.id)).toEqual(item.reply);
      const letters = await streamEntries(target(), keys.dead);
      expect(letters.map(([, fields]) => decodeDeadLetter(fields).requestId)).toEqual(["r0"]);
    });

    test("a reply to a vanished ingress creates no stream, and the entry is still acked", async () => {
      const keys = target().keys();
      const { queue, completions } = protocolFor(target().client, keys);
      const [delivered] = await deliver(queue, { messages: [request("v1")] });
      const replyTo = keys.replies("gone");
      await completions.write([{ entry: delivered!.entry, replyTo, reply: answer("v1"), resultTtlS: 0 }]);
      expect(await target().admin.exists(replyTo)).toBe(0);
      expect(await pendingIds(target(), keys)).toEqual([]);
    });

    test("an outcome that fails on its own (a reply key of another type) does not hold back the rest", async () => {
      const keys = target().keys();
      const { queue, completions } = protocolFor(target().client, keys);
      const [delivered] = await deliver(queue, { messages: [request("w1", { resultTtlS: 60 })] });
      // A key no retry can ever write a reply to: it must not keep the entry pending for ever.
      const replyTo = keys.replies("not-a-stream");
      await target().client.set(replyTo, "a string");
      const outcome = await completions.write([
        { entry: delivered!.entry, replyTo, reply: answer("w1"), resultTtlS: 60 },
      ]);
      expect(isRedisError(outcome, "WRONGTYPE")).toBe(true);
      expect(await new ResultStore({ client: target().client, keys }).read("w1")).toEqual(answer("w1"));
      expect(await pendingIds(target(), keys)).toEqual([]);
    });

    test("Redis refuses writes: nothing unwritten is acked, it stays pending, and a retry writes it once", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const open = new ReplyChannel({ client: target().client, stream: keys.replies("open"), ttlS: 60 });
      const closed = new ReplyChannel({ client: target().client, stream: keys.replies("closed"), ttlS: 60 });
      await Promise.all([open.maintain("0"), closed.maintain("0")]);
      const delivered = await deliver(queue, { messages: [request("a"), request("b")] });
      const batch: Completion[] = delivered.map(({ entry, message }, index) => ({
        entry,
        replyTo: (index === 0 ? open : closed).stream,
        reply: answer(message.id),
        resultTtlS: 0,
      }));
      // Reads everywhere; writes only to the request streams (XACK) and one of the reply streams.
      const user = `limited-${keys.prefix}`;
      const rules = ["resetkeys", "%R~*", `%W~${keys.prefix}:requests*`, `%W~${open.stream}`, "+@all"];
      const limited = await restrictedClient(target(), user, rules);
      try {
        const error = await protocolFor(limited, keys)
          .completions.write(batch)
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(UnwrittenError);
        const unwritten = (error as UnwrittenError).unwritten;
        expect(isRedisError((error as UnwrittenError).reason, "NOPERM")).toBe(true);
        expect(unwritten).toContain(batch[1]!);
        const pending = await pendingIds(target(), keys);
        const replies = async (channel: ReplyChannel) =>
          (await channel.read({ after: "0", count: 10, blockMs: 100 })).filter(([, fields]) =>
            isReplyEntry(fields),
          );
        for (const item of batch) {
          // Acked exactly when written: one Redis refuses the whole MULTI, a cluster entry by entry.
          const written = !unwritten.includes(item);
          expect(pending.includes(item.entry.id)).toBe(!written);
          const channel = item.replyTo === open.stream ? open : closed;
          expect(await replies(channel)).toHaveLength(written ? 1 : 0);
        }

        await onEveryMaster(target(), "ACL", "SETUSER", user, `%W~${closed.stream}`);
        expect(await protocolFor(limited, keys).completions.write(unwritten)).toBeUndefined();
        expect(await pendingIds(target(), keys)).toEqual([]);
        expect(await replies(open)).toHaveLength(1);
        expect(await replies(closed)).toHaveLength(1);
      } finally {
        limited.close();
        await onEveryMaster(target(), "ACL", "DELUSER", user);
      }
    });

    test("requeue: the next attempt is added and the current one acked together; the attempt travels", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      for (const stream of keys.requestStreams) {
        const message = request(`q-${stream}`, { replyTo: keys.replies("i"), retrySafe: true });
        const [first] = await deliver(queue, { stream, messages: [message] });
        expect(await queue.requeue({ pod: "pod-a", entry: first!.entry, message })).toBe(true);
        expect(await pendingIds(target(), keys, stream)).toEqual([]);
        const [[secondId, fields] = []] = await queue.readNew({
          stream,
          pod: "pod-b",
          count: 10,
          blockMs: 100,
        });
        expect(decodeRequest(fields!)).toEqual({ ...message, attempt: 2 });
        expect(secondId! > first!.entry.id).toBe(true);

        // The next attempt of the next attempt: the count travels in the entry, not the group.
        const second = { stream, id: secondId! };
        expect(
          await queue.requeue({ pod: "pod-b", entry: second, message: { ...message, attempt: 2 } }),
        ).toBe(true);
        const [[, third] = []] = await queue.readNew({ stream, pod: "pod-c", count: 10, blockMs: 100 });
        expect(decodeRequest(third!).attempt).toBe(3);
      }
    });

    test("requeue by a pod that no longer holds the entry does nothing", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const message = request("held");
      const [held] = await deliver(queue, { messages: [message] });
      const before = (await target().admin.xlen(keys.requests)) as number;
      expect(await queue.requeue({ pod: "pod-b", entry: held!.entry, message })).toBe(false);
      expect(await target().admin.xlen(keys.requests)).toBe(before);
      expect(await pendingEntries(target(), keys)).toMatchObject([{ id: held!.entry.id, consumer: "pod-a" }]);
      await queue.ack([held!.entry]);
      expect(await queue.requeue({ pod: "pod-a", entry: held!.entry, message })).toBe(false);
      expect(await target().admin.xlen(keys.requests)).toBe(before);
    });

    test("requeue refused by Redis: nothing is added and the entry stays pending", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const message = request("refused");
      const [held] = await deliver(queue, { messages: [message] });
      const user = `noxadd-${keys.prefix}`;
      const limited = await restrictedClient(target(), user, ["~*", "+@all", "-xadd"]);
      try {
        const error = await protocolFor(limited, keys)
          .queue.requeue({ pod: "pod-a", entry: held!.entry, message })
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(Error);
        expect(await target().admin.xlen(keys.requests)).toBe(1);
        expect(await pendingIds(target(), keys)).toEqual([held!.entry.id]);
      } finally {
        limited.close();
        await onEveryMaster(target(), "ACL", "DELUSER", user);
      }
    });
  });
