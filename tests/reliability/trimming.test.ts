import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  connectRedis,
  createLogger,
  type RedisClient,
  RedisRequestQueue,
  ReplyChannel,
  StreamKeys,
} from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";

const logger = createLogger("error", "test", "trimming");
const protocolClient = (redis: TestRedis): RedisClient =>
  connectRedis(
    { redisUrl: redis.url, redisTlsCaFile: undefined, redisClusterNodes: [] },
    { role: "commands", name: "test:trimming", logger },
  );

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("trimming the request stream", () => {
  let redis: TestRedis;
  let protocol: RedisClient;
  beforeAll(async () => {
    redis = await TestRedis.start();
    protocol = protocolClient(redis);
    await protocol.waitUntilReady(10_000);
  }, 60_000);
  afterAll(async () => {
    protocol?.close();
    await redis?.destroy();
  }, 60_000);

  test("acknowledged entries go; no pending or undelivered entry is ever removed", async () => {
    const client = redis.client();
    const keys = new StreamKeys("trim");
    await client.xgroup("CREATE", keys.requests, keys.group, "0", "MKSTREAM");
    const ids: string[] = [];
    for (let index = 0; index < 30; index++)
      ids.push((await client.xadd(keys.requests, "*", "n", String(index)))!);
    // Deliver the first 20 to two consumers; acknowledge all of them except #7 and #15.
    await client.xreadgroup("GROUP", keys.group, "a", "COUNT", 10, "STREAMS", keys.requests, ">");
    await client.xreadgroup("GROUP", keys.group, "b", "COUNT", 10, "STREAMS", keys.requests, ">");
    const pending = [ids[7]!, ids[15]!];
    await client.xack(keys.requests, keys.group, ...ids.slice(0, 20).filter((id) => !pending.includes(id)));

    const queue = new RedisRequestQueue({ client: protocol, keys });
    expect(await queue.trim(keys.requests)).toBe(ids[7]);
    let left = (await client.xrange(keys.requests, "-", "+")).map(([id]) => id);
    // Below #7: trimmed. Between #7 and the last delivered (#19): the acknowledged ones deleted,
    // so a long-running #7 cannot pin them. Undelivered (#20…#29): kept.
    expect(left).toEqual([ids[7]!, ids[15]!, ...ids.slice(20)]);

    // Once #7 is acknowledged the bound moves up to #15, the next pending one.
    await client.xack(keys.requests, keys.group, ids[7]!);
    expect(await queue.trim(keys.requests)).toBe(ids[15]);
    left = (await client.xrange(keys.requests, "-", "+")).map(([id]) => id);
    expect(left).toEqual([ids[15]!, ...ids.slice(20)]);

    // With nothing pending, the undelivered entries (#20…#29) are kept.
    await client.xack(keys.requests, keys.group, ids[15]!);
    await queue.trim(keys.requests);
    left = (await client.xrange(keys.requests, "-", "+")).map(([id]) => id);
    expect(left).toEqual(ids.slice(20));
  });

  test("behind a long-running entry, acknowledged ones go a page at a time, and no pending one ever", async () => {
    const client = redis.client();
    const keys = new StreamKeys("trim-page");
    await client.xgroup("CREATE", keys.requests, keys.group, "0", "MKSTREAM");
    const ids: string[] = [];
    for (let index = 0; index < 60; index++)
      ids.push((await client.xadd(keys.requests, "*", "n", String(index)))!);
    await client.xreadgroup("GROUP", keys.group, "a", "COUNT", 60, "STREAMS", keys.requests, ">");
    // Every third one stays pending (#0 the long-running one); the rest are acknowledged.
    const pending = ids.filter((_, index) => index % 3 === 0);
    await client.xack(keys.requests, keys.group, ...ids.filter((id) => !pending.includes(id)));
    const queue = new RedisRequestQueue({ client: protocol, keys });
    // Windows of 5 entries, 8 a call: each call gets further, and keeps every pending one.
    for (let round = 0; round < 3; round++) {
      await queue.trim(keys.requests, 5);
      const left = (await client.xrange(keys.requests, "-", "+")).map(([id]) => id);
      expect(pending.every((id) => left.includes(id))).toBe(true);
    }
    expect((await client.xrange(keys.requests, "-", "+")).map(([id]) => id)).toEqual(pending);
  });

  test("without a consumer group nothing is trimmed", async () => {
    const client = redis.client();
    const keys = new StreamKeys("nogroup");
    await client.xadd(keys.requests, "*", "n", "1");
    expect(await new RedisRequestQueue({ client: protocol, keys }).trim(keys.requests)).toBeUndefined();
    expect(await client.xlen(keys.requests)).toBe(1);
  });

  test("gone consumers are forgotten only when they own nothing, and never the caller", async () => {
    const client = redis.client();
    const keys = new StreamKeys("forget");
    await client.xgroup("CREATE", keys.requests, keys.group, "0", "MKSTREAM");
    await client.xadd(keys.requests, "*", "n", "1");
    // "holder" keeps an unacknowledged entry; "empty" and "me" own nothing.
    await client.xreadgroup("GROUP", keys.group, "holder", "COUNT", 1, "STREAMS", keys.requests, ">");
    await client.xgroup("CREATECONSUMER", keys.requests, keys.group, "empty");
    await client.xgroup("CREATECONSUMER", keys.requests, keys.group, "me");
    const removed = await new RedisRequestQueue({ client: protocol, keys }).forgetConsumers(
      keys.requests,
      "me",
      0,
    );
    expect(removed).toEqual(["empty"]);
    const left = ((await client.xinfo("CONSUMERS", keys.requests, keys.group)) as unknown[][]).map(
      (info) => info[1],
    );
    expect(left.sort()).toEqual(["holder", "me"]);
  });
});

describe("a reply stream, kept by its ingress", () => {
  let redis: TestRedis;
  let protocol: RedisClient;
  beforeAll(async () => {
    redis = await TestRedis.start();
    protocol = protocolClient(redis);
    await protocol.waitUntilReady(10_000);
  }, 60_000);
  afterAll(async () => {
    protocol?.close();
    await redis?.destroy();
  }, 60_000);

  test("is created with a TTL, loses what its reader passed, and stays capped when the reader is stuck", async () => {
    const client = redis.client();
    const stream = new ReplyChannel({
      client: protocol,
      stream: "rsd:replies:test-ingress",
      ttlS: 300,
      maxLength: 500,
    });
    await stream.maintain("0-0");
    expect(await client.xlen(stream.stream)).toBe(1); // the creation marker
    expect(await client.ttl(stream.stream)).toBeGreaterThan(290);

    // Replies arrive the way proxies write them: NOMKSTREAM, no per-entry MAXLEN.
    const write = async (count: number) => {
      const ids: string[] = [];
      for (let index = 0; index < count; index++)
        ids.push((await client.xadd(stream.stream, "NOMKSTREAM", "*", "m", `r${index}`))!);
      return ids;
    };
    const ids = await write(300);
    // The reader got up to the 200th reply: what came before it goes (in whole stream nodes: "~").
    await stream.maintain(ids[199]!);
    const firstLeft = (await client.xrange(stream.stream, "-", "+", "COUNT", 1))[0]?.[0];
    expect(firstLeft! <= ids[199]!).toBe(true);
    expect(await client.xlen(stream.stream)).toBeLessThan(301);
    expect((await client.xrange(stream.stream, ids[199]!, "+")).length).toBe(101); // nothing unread lost

    // A reader that stops moving: the cap still holds (500, plus at most one stream node of 100),
    // also over a backlog larger than what one approximate trim frees by default (10,000).
    const backlog = client.pipeline();
    for (let index = 0; index < 25_000; index++) backlog.xadd(stream.stream, "NOMKSTREAM", "*", "m", "x");
    await backlog.exec();
    await stream.maintain(ids[199]!);
    expect(await client.xlen(stream.stream)).toBeLessThanOrEqual(600);
    expect(await client.xlen(stream.stream)).toBeGreaterThanOrEqual(500);

    // Gone (Redis restarted empty): the next round recreates it; replies never recreate it themselves.
    await client.del(stream.stream);
    expect(await client.xadd(stream.stream, "NOMKSTREAM", "*", "m", "late")).toBeNull();
    await stream.maintain(ids[199]!);
    expect(await client.xlen(stream.stream)).toBe(1);
  });
});
