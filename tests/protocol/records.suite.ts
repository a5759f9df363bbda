import { describe, expect, test } from "bun:test";
import {
  type DeadLetter,
  decodeDeadLetter,
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  FleetRegistry,
  IdempotencyStore,
  inlineResultLimit,
  isFinal,
  isReplyEntry,
  MalformedMessageError,
  noTerminal,
  type ProxyHeartbeat,
  ReplyChannel,
  type ReplyMessage,
  ResultStore,
} from "@rsd/shared";
import type { Suite } from "./adapters.ts";
import { deliver, protocolFor, request, streamEntries } from "./observe.ts";

/** Every record written through the protocol on this adapter and read back, as it was. */
export const recordsSuite: Suite = (target) =>
  describe("records round-trip through Redis", () => {
    const reply = (id: string, overrides: Partial<ReplyMessage> = {}): ReplyMessage => ({
      id,
      status: "completed",
      result: '{"echo":"a b  c"}',
      pod: "pod-a",
      terminal: 2,
      queuedMs: 12,
      processingMs: 150,
      ...overrides,
    });

    test("requests: every optional part, odd payloads, read as new and as own pending", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const messages = [
        request("r1"),
        request("r2", {
          replyTo: keys.replies("ingress-1"),
          resultTtlS: 3600,
          kind: "http",
          retrySafe: true,
          attempt: 3,
          traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        }),
        request("r3", { payload: "" }),
        request("r4", { payload: '{"text":"spaces  and\nnewlines, ünïcødé 🚀, \\"quotes\\""}' }),
      ];
      const delivered = await deliver(queue, { messages });
      const own = await queue.readOwnPending({ stream: keys.requests, pod: "pod-a", after: "0", count: 10 });
      expect(own.map(([, fields]) => decodeRequest(fields!))).toEqual(messages);
      expect(own.map(([id]) => id)).toEqual(delivered.map(({ entry }) => entry.id));
    });

    test("replies of every status, inline and by reference, read from the reply channel", async () => {
      const keys = target().keys();
      const { queue, completions } = protocolFor(target().client, keys);
      const channel = new ReplyChannel({ client: target().client, stream: keys.replies("i1"), ttlS: 60 });
      expect(await channel.maintain("0")).toBe(true);
      const large = "x".repeat(inlineResultLimit + 1);
      const atLimit = "y".repeat(inlineResultLimit);
      const replies: ReplyMessage[] = [
        reply("a"),
        reply("b", { status: "failed", result: undefined, error: "boom: it failed", terminal: noTerminal }),
        reply("c", { status: "expired", result: undefined }),
        reply("d", { result: atLimit }),
        reply("e", { result: large }),
      ];
      for (const message of replies) if (message.result === undefined) delete message.result;
      const delivered = await deliver(queue, { messages: replies.map(({ id }) => request(id)) });
      const batch = delivered.map(({ entry }, index) => ({
        entry,
        replyTo: channel.stream,
        reply: replies[index]!,
        resultTtlS: 0,
        deadline: Date.now() + 10_000,
      }));
      expect(await completions.write(batch)).toBeUndefined();

      const read = await channel.read({ after: "0", count: 100, blockMs: 100 });
      const decoded = read
        .map(([, fields]) => fields)
        .filter(isReplyEntry)
        .map(decodeReply);
      const bodyKey = keys.replyBody("e");
      expect(decoded).toEqual([
        ...replies.slice(0, 4),
        { ...reply("e"), result: undefined, resultRef: bodyKey },
      ]);
      const store = new ResultStore({ client: target().client, keys });
      expect(await store.readBody(bodyKey)).toBe(large);
      // The body lives until the deadline plus a grace period, never for ever.
      expect(await target().admin.pttl(bodyKey)).toBeGreaterThan(0);
      await store.deleteBody(bodyKey);
      expect(await store.readBody(bodyKey)).toBeUndefined();
    });

    test("stored results: pending at enqueue, then the final reply; foreign values read as absent", async () => {
      const keys = target().keys();
      const { queue, completions } = protocolFor(target().client, keys);
      const store = new ResultStore({ client: target().client, keys });
      const pending = { id: "s1", status: "pending" as const, deadline: Date.now() + 5000, enqueuedAt: 1 };
      await store.markPending(pending, 60);
      expect(await store.read("s1")).toEqual(pending);
      expect(isFinal(await store.read("s1"))).toBe(false);

      const [delivered] = await deliver(queue, { messages: [request("s1", { resultTtlS: 60 })] });
      const final = reply("s1", { terminal: noTerminal });
      await completions.write([{ entry: delivered!.entry, replyTo: "", reply: final, resultTtlS: 60 }]);
      expect(await store.read("s1")).toEqual(final);
      expect(isFinal(await store.read("s1"))).toBe(true);
      expect(await target().admin.ttl(keys.result("s1"))).toBeGreaterThan(0);

      await target().client.set(keys.result("junk"), "not json at all");
      expect(await store.read("junk")).toBeUndefined();
      await store.remove("s1");
      expect(await store.read("s1")).toBeUndefined();
    });

    test("heartbeats: what a proxy beats is what the fleet reads", async () => {
      const keys = target().keys();
      const fleet = new FleetRegistry({ client: target().client, keys });
      const now = Date.now();
      const beats: ProxyHeartbeat[] = [
        { pod: "p1", terminals: 5, busy: 2, handler: "simulate", processingMs: 150, seenAt: now, limit: 3 },
        { pod: "p2", terminals: 1, busy: 0, handler: "forward", processingMs: null, seenAt: now, limit: 1 },
      ];
      for (const beat of beats) await fleet.beat(beat);
      const live = await fleet.live(now);
      expect(live.sort((a, b) => a.pod.localeCompare(b.pod))).toEqual(beats);
    });

    test("dead letters, with and without the parts only a decodable request has", async () => {
      const keys = target().keys();
      const { queue, completions } = protocolFor(target().client, keys);
      const delivered = await deliver(queue, { messages: [request("d1"), request("d2")] });
      const letters: DeadLetter[] = [
        {
          requestId: "d1",
          entry: delivered[0]!.entry.id,
          attempts: 3,
          error: "upstream said no, three times",
          failedAt: 1_764_150_000_000,
          payload: '{"n":"d1"}',
          tenant: "acme",
          urgency: 0,
        },
        { entry: delivered[1]!.entry.id, error: "not a request: no m field", failedAt: 1_764_150_000_001 },
      ];
      await completions.write(
        delivered.map(({ entry }, index) => ({
          entry,
          replyTo: "",
          reply: reply(`d${index + 1}`, { status: "failed", result: undefined, error: "x" }),
          resultTtlS: 0,
          deadLetter: letters[index]!,
        })),
      );
      const read = await streamEntries(target(), keys.dead);
      expect(read.map(([, fields]) => decodeDeadLetter(fields))).toEqual(letters);
    });
  });

/** Rolling upgrades: newer writers append, older readers ignore; garbage is refused by type. */
export const recordVersionsSuite: Suite = (target) =>
  describe("record versions", () => {
    test("decoders accept trailing words and fields a newer writer adds", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const { client } = target();
      const message = request("n1", {
        traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      });
      const [m, meta, ...body] = encodeRequest(message);
      await queue.ensureGroup(keys.requests);
      await client.xadd(keys.requests, [m!, `${meta} tenant-7 lane:2`, ...body, "future", "field"]);
      const [[, fields] = []] = await queue.readNew({
        stream: keys.requests,
        pod: "p",
        count: 1,
        blockMs: 100,
      });
      expect(decodeRequest(fields!)).toEqual(message);

      const answer: ReplyMessage = {
        id: "n1",
        status: "failed",
        error: "e",
        pod: "p",
        terminal: 0,
        queuedMs: 1,
        processingMs: 2,
      };
      const [rm, rmeta, ...rbody] = encodeReply(answer);
      const stream = keys.replies("i");
      await client.xadd(stream, [rm!, `${rmeta} 42 extra`, ...rbody, "later", "v"]);
      const [[, replyFields] = []] = await client.xread({ stream, after: "0", count: 1 });
      expect(decodeReply(replyFields!)).toEqual(answer);

      const fleet = new FleetRegistry({ client, keys });
      const beat = { pod: "p", terminals: 5, busy: 1, handler: "h", processingMs: null, seenAt: Date.now() };
      await client.hset(keys.fleet, "p", JSON.stringify({ ...beat, lane: "gold", version: 2 }));
      // A beat of a proxy older than the limit word reads with its terminals as its limit.
      expect(await fleet.live(beat.seenAt)).toEqual([{ ...beat, limit: 5 }]);

      await client.set(keys.idempotency("k"), "req-9 abcd tenant-3", { ttlS: 60 });
      const idempotency = new IdempotencyStore({ client, keys });
      const owner = { requestId: "req-9", hash: "abcd" };
      expect(await idempotency.claim("k", { requestId: "x", hash: "y" }, 60)).toEqual(owner);

      await client.xadd(keys.dead, ["entry", "1-0", "error", "e", "failedAt", "5", "lane", "t"]);
      const [[, letter] = []] = await client.xread({ stream: keys.dead, after: "0", count: 1 });
      expect(decodeDeadLetter(letter!)).toEqual({ entry: "1-0", error: "e", failedAt: 5 });
      // An urgency outside RFC 9218's 0…7 is not one: the replay then uses the normal urgency.
      for (const junk of ["8", "-1", "1.5", "u=0", ""])
        expect(
          decodeDeadLetter(["entry", "1-1", "error", "e", "failedAt", "6", "urgency", junk]).urgency,
        ).toBe(undefined);
    });

    test("malformed requests and replies are refused with MalformedMessageError", async () => {
      const keys = target().keys();
      const { client } = target();
      const [m, meta, , payload] = encodeRequest(request("bad"));
      const words = meta!.split(" ");
      const requests = [
        ["payload", payload!],
        [m!, words.slice(0, 8).join(" "), "payload", payload!],
        [m!, [words[0], words[1], "soon", ...words.slice(3)].join(" "), "payload", payload!],
        [m!, meta!],
        [m!, meta!, "body", payload!],
      ];
      const [rm, rmeta] = encodeReply({
        id: "x",
        status: "completed",
        pod: "p",
        terminal: 1,
        queuedMs: 0,
        processingMs: 0,
      });
      const replies = [
        [rm!, rmeta!.replace("completed", "lost")],
        [rm!, rmeta!.replace(" 1 ", " one ")],
        ["created", "1"],
      ];
      for (const fields of requests) await client.xadd(keys.requests, fields);
      for (const fields of replies) await client.xadd(keys.replies("i"), fields);
      const readRequests = await client.xread({ stream: keys.requests, after: "0", count: 10 });
      const readReplies = await client.xread({ stream: keys.replies("i"), after: "0", count: 10 });
      expect(readRequests).toHaveLength(requests.length);
      for (const [, fields] of readRequests)
        expect(() => decodeRequest(fields!)).toThrow(MalformedMessageError);
      for (const [, fields] of readReplies) expect(() => decodeReply(fields!)).toThrow(MalformedMessageError);
      expect(isReplyEntry(readReplies[2]![1])).toBe(false);

      // Unreadable heartbeats are not live, and the registry drops them.
      const fleet = new FleetRegistry({ client, keys });
      await client.hset(keys.fleet, "garbled", "{not json");
      await client.hset(keys.fleet, "partial", JSON.stringify({ pod: "partial", terminals: "5" }));
      expect(await fleet.live()).toEqual([]);
      expect(await target().admin.hlen(keys.fleet)).toBe(0);
    });
  });
