import { describe, expect, test } from "bun:test";
import {
  decodeRequest,
  isRedisError,
  LaneQueue,
  ReplyChannel,
  type RequestMessage,
  scripts,
} from "@rsd/shared";
import type { Redis } from "ioredis";
import type { Suite } from "./adapters.ts";
import { deliver, enqueued, onEveryMaster, pendingIds, protocolFor, request } from "./observe.ts";

/** How often `command` ran on `node` since its last CONFIG RESETSTAT. */
async function commandCalls(node: Redis, command: string): Promise<number> {
  const info = String(await node.call("INFO", "commandstats"));
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/** Redis lost its state under the protocol, or never had the scripts: the protocol carries on. */
export const recoverySuite: Suite = (target) =>
  describe("recovery", () => {
    const readError = async (read: Promise<unknown>) =>
      await read.then(
        () => undefined,
        (error: unknown) => error,
      );

    test("NOGROUP: a deleted group is recreated from the start, and reading goes on with what was queued", async () => {
      const keys = target().keys();
      const { queue } = protocolFor(target().client, keys);
      const stream = keys.requests;
      await deliver(queue, { messages: [request("before")] });
      await target().admin.call("XGROUP", "DESTROY", stream, keys.group);
      await enqueued(queue, stream, request("during"));
      const read = () => queue.readNew({ stream, pod: "pod-a", count: 10, blockMs: 100 });
      expect(isRedisError(await readError(read()), "NOGROUP")).toBe(true);
      expect(await queue.ensureGroup(stream)).toBe(true);
      // From id 0: what was queued while the group was missing is delivered (a repeat is harmless).
      expect((await read()).map(([, fields]) => decodeRequest(fields!).id)).toEqual(["before", "during"]);
    });

    test("FLUSHALL: answers to lost entries write nothing and fail nothing, the reply stream and groups come back, and work flows", async () => {
      const keys = target().keys(target().shards);
      const { queue, completions } = protocolFor(target().client, keys);
      const channel = new ReplyChannel({ client: target().client, stream: keys.replies("i1"), ttlS: 60 });
      await channel.maintain("0");
      const held = [];
      for (const stream of keys.requestStreams)
        held.push(...(await deliver(queue, { stream, messages: [request(`lost-${stream}`)] })));

      await onEveryMaster(target(), "FLUSHALL");
      for (const stream of keys.requestStreams) {
        const error = await readError(queue.readNew({ stream, pod: "pod-a", count: 1, blockMs: 100 }));
        expect(isRedisError(error, "NOGROUP")).toBe(true);
        expect(await queue.counts(stream)).toMatchObject({ length: 0, lag: 0, pending: 0 });
      }
      // The answers of work that Redis forgot: nobody to answer (NOMKSTREAM), nothing to ack (XACK
      // on a missing stream or group counts 0, it is no error), nothing refused.
      const outcome = await completions.write(
        held.map(({ entry, message }) => ({
          entry,
          replyTo: channel.stream,
          reply: {
            id: message.id,
            status: "completed",
            pod: "pod-a",
            terminal: 0,
            queuedMs: 0,
            processingMs: 0,
          },
          resultTtlS: 0,
        })),
      );
      expect(outcome).toBeUndefined();
      expect(await target().admin.exists(channel.stream)).toBe(0);

      expect(await channel.maintain("0")).toBe(true);
      for (const stream of keys.requestStreams) {
        expect(await queue.ensureGroup(stream)).toBe(true);
        const [again] = await deliver(queue, { stream, messages: [request(`after-${stream}`)] });
        await queue.ack([again!.entry]);
        expect(await pendingIds(target(), keys, stream)).toEqual([]);
      }
    });

    test("stream scripts run by SHA; after SCRIPT FLUSH each node gets the text once, then SHA again", async () => {
      const keys = target().keys(target().shards);
      const { queue } = protocolFor(target().client, keys);
      const nodes = [
        ...new Set(await Promise.all(keys.requestStreams.map((stream) => target().nodeOf(stream)))),
      ];
      const lanes = new LaneQueue({ client: target().client, keys });
      const useEveryScript = async (round: string) => {
        for (const [shard, stream] of keys.requestStreams.entries()) {
          await lanes.dispatch(shard, "pod-a", 0);
          const message: RequestMessage = request(`${round}-${stream}`);
          const [held] = await deliver(queue, { stream, messages: [message] });
          expect(await queue.requeue({ pod: "pod-a", entry: held!.entry, message })).toBe(true);
          expect(await queue.trim(stream)).toBeString();
          expect(await queue.forgetConsumers(stream, "pod-a", 600_000)).toEqual([]);
        }
      };
      // The scripts of the request streams and their lanes (the others have their own keys and tests).
      const used = [scripts.requeue, scripts.trim, scripts.forgetConsumers, scripts.dispatch];
      const shas = used.map(({ sha }) => sha);

      await onEveryMaster(target(), "SCRIPT", "FLUSH");
      await onEveryMaster(target(), "CONFIG", "RESETSTAT");
      await useEveryScript("cold");
      for (const node of nodes) {
        // Once per script and node, however many streams the node holds.
        expect(await commandCalls(node, "eval")).toBe(shas.length);
        expect(await node.call("SCRIPT", "EXISTS", ...shas)).toEqual(shas.map(() => 1));
      }
      const before = await Promise.all(nodes.map((node) => commandCalls(node, "evalsha")));
      await useEveryScript("warm");
      for (const [index, node] of nodes.entries()) {
        expect(await commandCalls(node, "eval")).toBe(shas.length);
        expect(await commandCalls(node, "evalsha")).toBeGreaterThan(before[index]!);
      }
    });
  });
