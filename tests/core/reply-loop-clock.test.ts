import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connectRedis, createLogger, encodeReply, ReplyChannel, ResultStore, StreamKeys } from "@rsd/shared";
import { PendingReplies } from "../../ingress/src/replies/pending-replies.ts";
import { ReplyLoop } from "../../ingress/src/replies/reply-loop.ts";
import { TestRedis } from "../helpers/redis-server.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const logger = createLogger("error", "ingress", "test");

describe("the reply loop reads by Redis's clock, not the ingress's", () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await TestRedis.start();
  });
  afterAll(async () => {
    await redis?.destroy();
  });

  test("an ingress whose clock runs an hour ahead of Redis still gets its replies", async () => {
    const stream = `clock:replies:${crypto.randomUUID()}`;
    await redis.client().xadd(stream, "*", "created", "1");
    const realNow = Date.now;
    const client = connectRedis(
      { redisUrl: redis.url, redisTlsCaFile: undefined, redisClusterNodes: [] },
      { role: "blocking", name: "test:replies", logger, blockMs: 200 },
    );
    const pending = new PendingReplies().start();
    let loop: ReplyLoop | undefined;
    try {
      // The loop is made while this process's clock is an hour ahead (the deadline sweep too).
      Date.now = () => realNow() + 3_600_000;
      loop = new ReplyLoop({
        channel: new ReplyChannel({ client, stream, ttlS: 300 }),
        client,
        pending,
        logger,
        blockMs: 200,
        bodies: new ResultStore({ client, keys: new StreamKeys("clock") }),
      }).start();
      const id = crypto.randomUUID();
      const waiting = pending.wait(id, Date.now() + 10_000);
      const reply = {
        id,
        status: "completed" as const,
        result: "1",
        pod: "p",
        terminal: 0,
        queuedMs: 0,
        processingMs: 0,
      };
      await redis.client().xadd(stream, "*", ...encodeReply(reply));
      const outcome = await waiting;
      expect(outcome.kind).toBe("reply");
    } finally {
      Date.now = realNow;
      await loop?.stop();
      pending.stop();
    }
  });
});
