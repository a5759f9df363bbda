import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  connectRedis,
  createLogger,
  decodeRequest,
  type EntryRef,
  RedisRequestQueue,
  type RequestMessage,
  type RequestQueue,
  type StreamEntry,
  StreamKeys,
} from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";
import { FakeRequestQueue } from "./fakes/request-queue.ts";

/**
 * The unit tests trust FakeRequestQueue to behave like the real queue. This runs one scenario of
 * the delivery rules through both — the fake, and RedisRequestQueue on a private redis-server — and
 * compares what a caller can observe (entry ids differ by nature: entries are named by request id
 * and attempt). When the protocol changes, this is what says the fake must change too.
 */
async function scenario(queue: RequestQueue): Promise<unknown[]> {
  const stream = queue.keys.requests;
  const seen: unknown[] = [];
  const entries = new Map<string, { entry: EntryRef; message: RequestMessage }>();
  const names = (read: StreamEntry[]) =>
    read.map(([id, fields]) => {
      const message = decodeRequest(fields ?? []);
      entries.set(message.id, { entry: { stream, id }, message });
      return `${message.id}#${message.attempt}`;
    });
  const ref = (requestId: string) => entries.get(requestId) as { entry: EntryRef; message: RequestMessage };
  const record = async (what: string, result: Promise<unknown>) => {
    seen.push([what, await result.catch((error: Error) => `rejected ${error.message.split(" ")[0]}`)]);
  };

  await record("readNew before the group exists", queue.readNew({ stream, pod: "a", count: 1, blockMs: 0 }));
  await record("counts of a missing stream", queue.counts(stream));
  await record("ensureGroup", queue.ensureGroup(stream));
  await record("ensureGroup again", queue.ensureGroup(stream));
  for (const id of ["r1", "r2", "r3"]) {
    const message: RequestMessage = {
      id,
      replyTo: "unit:replies:i",
      deadline: 2_000_000_000_000,
      enqueuedAt: 1_900_000_000_000,
      payload: `{"id":"${id}"}`,
      attempt: 1,
      resultTtlS: 0,
      kind: "json",
      retrySafe: true,
    };
    await new Promise<void>((resolve, reject) => queue.enqueue(stream, message, reject, resolve));
  }
  await record("counts after three enqueues", queue.counts(stream));
  seen.push(["a reads two", names(await queue.readNew({ stream, pod: "a", count: 2, blockMs: 0 }))]);
  await record("counts", queue.counts(stream));
  await record("b requeues what a holds", queue.requeue({ pod: "b", ...ref("r1") }));
  await record("a requeues r1", queue.requeue({ pod: "a", ...ref("r1") }));
  await record("a requeues r1 twice", queue.requeue({ pod: "a", ...ref("r1") }));
  await record("counts after the requeue", queue.counts(stream));
  const claimed = await queue.claimIdle({ stream, pod: "b", minIdleMs: 0, cursor: "0-0", count: 10 });
  seen.push(["b claims idle", names(claimed.entries), claimed.deleted, claimed.next]);
  seen.push(["a's own", names(await queue.readOwnPending({ stream, pod: "a", after: "0", count: 10 }))]);
  seen.push(["b's own", names(await queue.readOwnPending({ stream, pod: "b", after: "0", count: 10 }))]);
  seen.push(["b reads new", names(await queue.readNew({ stream, pod: "b", count: 10, blockMs: 0 }))]);
  await queue.ack([ref("r2").entry, ref("r3").entry]);
  await record("counts after two acks", queue.counts(stream));
  seen.push(["trim keeps the held entry", typeof (await queue.trim(stream))]);
  await record("counts after the trim", queue.counts(stream));
  await queue.keepClaims("b", [ref("r1").entry]);
  await queue.ack([ref("r1").entry]);
  seen.push(["trim with nothing held", typeof (await queue.trim(stream))]);
  await record("counts at the end", queue.counts(stream));
  return seen;
}

describe("FakeRequestQueue answers like RedisRequestQueue", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  test("one scenario of reads, requeues, claims, acks and trims gives the same observations", async () => {
    const keys = new StreamKeys(`agree-${crypto.randomUUID()}`);
    const client = connectRedis(
      { redisUrl: redis.url, redisTlsCaFile: undefined, redisClusterNodes: [] },
      { role: "commands", name: "test:agreement", logger: createLogger("error", "proxy", "test") },
    );
    try {
      expect(await client.waitUntilReady(10_000)).toBe(true);
      const real = await scenario(new RedisRequestQueue({ client, keys }));
      const fake = await scenario(new FakeRequestQueue({ keys }));
      expect(fake).toEqual(real);
    } finally {
      client.close();
    }
  });
});
