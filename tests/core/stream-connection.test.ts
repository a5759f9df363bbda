import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  type Connection,
  createLogger,
  isErrorReply,
  NativeConnection,
  type StreamEntry,
  streamEntries,
} from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(60_000);

describe("streamEntries: one shape for every XREAD reply", () => {
  const entries: StreamEntry[] = [["1-0", ["a", "1"]]];
  test("a RESP3 map (Bun's client), a flat RESP3 map (ioredis call), RESP2 pairs, and nothing", () => {
    expect(streamEntries({ s: entries, t: [] })).toEqual([
      ["s", entries],
      ["t", []],
    ]);
    expect(streamEntries(["s", entries, "t", []])).toEqual([
      ["s", entries],
      ["t", []],
    ]);
    expect(streamEntries([["s", entries]])).toEqual([["s", entries]]);
    expect(streamEntries(null)).toEqual([]);
  });
});

describe("NativeConnection against a real redis-server", () => {
  let redis: TestRedis;
  const opened: Connection[] = [];
  const logger = createLogger("error", "test", "stream-connection");
  const open = (name: string, stallTimeoutMs = 2000) => {
    const connection = new NativeConnection({ url: redis.url, name, logger, stallTimeoutMs });
    opened.push(connection);
    return connection;
  };
  const clientNames = async () => String(await redis.client().call("CLIENT", "LIST"));

  beforeAll(async () => {
    redis = await TestRedis.start();
  }, 60_000);
  afterEach(() => {
    for (const connection of opened.splice(0)) connection.close();
  });
  afterAll(async () => {
    await redis?.destroy();
  }, 60_000);

  test("connects under its name, writes and reads a stream, and tells error replies apart", async () => {
    const connection = open("test:native:rw");
    expect(await connection.waitUntilReady(5000)).toBe(true);
    expect(await clientNames()).toContain("name=test:native:rw");
    const id = await connection.send("XADD", ["conn:s", "*", "f", "v"]);
    const read = streamEntries(await connection.send("XREAD", ["STREAMS", "conn:s", "0"]));
    expect(read).toEqual([["conn:s", [[id as string, ["f", "v"]]]]]);
    const nogroup = await connection
      .send("XREADGROUP", ["GROUP", "nope", "c", "STREAMS", "conn:s", ">"])
      .catch((error: unknown) => error);
    expect((nogroup as Error).message).toStartWith("NOGROUP");
    expect(isErrorReply(nogroup)).toBe(true);
  });

  test("Redis killed: commands fail at once (no offline queue); restarted: ready again by itself", async () => {
    const connection = open("test:native:restart");
    expect(await connection.waitUntilReady(5000)).toBe(true);
    await redis.kill();
    await waitFor("the connection to notice", () => !connection.ready);
    const failure = await connection.send("PING", []).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(isErrorReply(failure)).toBe(false);
    await redis.startProcess();
    expect(await connection.waitUntilReady(10_000)).toBe(true);
    expect(await connection.send("PING", [])).toBe("PONG");
  });

  test("a hung server: a command in flight fails after the stall timeout, and it reconnects after", async () => {
    const connection = open("test:native:stall", 300);
    expect(await connection.waitUntilReady(5000)).toBe(true);
    redis.pause();
    try {
      const failure = await connection.send("PING", []).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(Error);
      expect(isErrorReply(failure)).toBe(false);
    } finally {
      redis.resume();
    }
    expect(await connection.waitUntilReady(10_000)).toBe(true);
    expect(await connection.send("PING", [])).toBe("PONG");
  });

  test("close(): a blocked read fails at once and the connection does not come back", async () => {
    const connection = open("test:native:close");
    expect(await connection.waitUntilReady(5000)).toBe(true);
    const blocked = connection
      .send("XREAD", ["BLOCK", "20000", "STREAMS", "conn:never", "$"])
      .catch((error: unknown) => error);
    connection.close();
    expect(await blocked).toBeInstanceOf(Error);
    expect(connection.ready).toBe(false);
    await waitFor(
      "the server to see it gone",
      async () => !(await clientNames()).includes("test:native:close"),
    );
  });
});
