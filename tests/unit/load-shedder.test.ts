import { describe, expect, test } from "bun:test";
import { type RequestMessage, StreamKeys, StreamStats } from "@rsd/shared";
import { Registry } from "prom-client";
import { LoadShedder } from "../../ingress/src/shedding/load-shedder.ts";
import { RedisMemory } from "../../ingress/src/shedding/redis-memory.ts";
import { FakeMemoryInfo } from "./fakes/redis-info.ts";
import { FakeRequestQueue } from "./fakes/request-queue.ts";

/** How long a lag or memory snapshot is trusted (LoadShedder.staleAfterMs). */
const staleAfterMs = 2000;

function request(index: number): RequestMessage {
  return {
    id: `r${index}`,
    replyTo: "unit:replies:i",
    deadline: Date.now() + 30_000,
    enqueuedAt: Date.now(),
    payload: "{}",
    attempt: 1,
    resultTtlS: 0,
    kind: "json",
    retrySafe: false,
  };
}

/**
 * The ingress's view of the queue: real StreamStats polling an in-memory queue. `lags[i]` requests
 * wait unread on shard i; `refresh()` is the periodic poll, and its snapshot's readAt is "now".
 */
function shedder(options: {
  lags: number[];
  maxQueueDepth: number;
  memory?: FakeMemoryInfo;
  maxPercent?: number;
}) {
  const keys = new StreamKeys("unit", options.lags.length);
  const queue = new FakeRequestQueue({ keys });
  options.lags.forEach((lag, shard) => {
    for (let index = 0; index < lag; index++)
      queue.enqueue(keys.requestStreams[shard] as string, request(index), (error) => {
        throw error;
      });
  });
  const stats = new StreamStats(queue, new Registry());
  const watcher = options.memory ? new RedisMemory(options.memory) : undefined;
  const memory = watcher ? { watcher, maxPercent: options.maxPercent ?? 90 } : undefined;
  /** One poll of each; returns the later reading time (both readings are fresh then). */
  const refresh = async () => {
    const [lag, used] = await Promise.all([stats.refresh(), watcher?.refresh()]);
    return Math.max(lag.readAt, used?.readAt ?? 0);
  };
  const door = new LoadShedder(stats, keys, options.maxQueueDepth, memory);
  return { keys, queue, refresh, stats, watcher, shedder: door };
}

describe("LoadShedder: refusing at the door when the queue is too long", () => {
  test("with MAX_QUEUE_DEPTH 0 it is off and never sheds, whatever the lag", async () => {
    const { shedder: door, refresh } = shedder({ lags: [50], maxQueueDepth: 0 });
    const now = await refresh();
    expect(door.enabled).toBe(false);
    expect(door.overloadedBy(now)).toBeUndefined();
  });

  test("it sheds once the lag is over MAX_QUEUE_DEPTH, not when it equals it, and names the lag", async () => {
    const atLimit = shedder({ lags: [10], maxQueueDepth: 10 });
    expect(atLimit.shedder.overloadedBy(await atLimit.refresh())).toBeUndefined();
    const over = shedder({ lags: [11], maxQueueDepth: 10 });
    expect(over.shedder.overloadedBy(await over.refresh())).toBe(11);
  });

  test("the lag is summed over the shards", async () => {
    const { shedder: door, refresh } = shedder({ lags: [4, 4, 4], maxQueueDepth: 10 });
    expect(door.overloadedBy(await refresh())).toBe(12);
  });

  test("before the first poll, and when the poll has failed for two seconds, requests go in", async () => {
    const { shedder: door, refresh, stats } = shedder({ lags: [50], maxQueueDepth: 10 });
    expect(door.overloadedBy()).toBeUndefined();
    await refresh();
    const readAt = stats.latest?.readAt as number;
    expect(door.overloadedBy(readAt + staleAfterMs)).toBe(50);
    expect(door.overloadedBy(readAt + staleAfterMs + 1)).toBeUndefined();
  });

  test("a shard whose node does not answer is left out of the sum", async () => {
    const { shedder: door, keys, queue, refresh } = shedder({ lags: [8, 8], maxQueueDepth: 10 });
    queue.disconnect(keys.requestStreams[1] as string);
    expect(door.overloadedBy(await refresh())).toBeUndefined();
  });
});

describe("LoadShedder: which shard takes the next request", () => {
  test("with one stream every request goes there, even while shedding", async () => {
    const { shedder: door, keys, refresh } = shedder({ lags: [50], maxQueueDepth: 10 });
    const now = await refresh();
    expect([door.pickStream(now), door.pickStream(now)]).toEqual([keys.requests, keys.requests]);
  });

  test("requests go round robin over the shards", async () => {
    const { shedder: door, keys, refresh } = shedder({ lags: [0, 0, 0], maxQueueDepth: 30 });
    const now = await refresh();
    const picked = Array.from({ length: 6 }, () => door.pickStream(now));
    expect(picked).toEqual([...keys.requestStreams, ...keys.requestStreams]);
  });

  test("a shard whose lag is over its share of MAX_QUEUE_DEPTH is skipped", async () => {
    // Share: 9 / 3 = 3 each; shard 1 holds 4.
    const { shedder: door, keys, refresh } = shedder({ lags: [0, 4, 3], maxQueueDepth: 9 });
    const now = await refresh();
    const [first, , third] = keys.requestStreams;
    const picked = Array.from({ length: 4 }, () => door.pickStream(now));
    expect(picked).toEqual([first, third, first, third]);
  });

  test("a shard whose node did not answer the last poll is skipped, even with shedding off", async () => {
    const { shedder: door, keys, queue, refresh } = shedder({ lags: [0, 0], maxQueueDepth: 0 });
    queue.disconnect(keys.requestStreams[0] as string);
    const now = await refresh();
    expect([door.pickStream(now), door.pickStream(now)]).toEqual([
      keys.requestStreams[1],
      keys.requestStreams[1],
    ]);
  });

  test("when no shard can take the request, none is picked", async () => {
    const { shedder: door, keys, queue, refresh } = shedder({ lags: [5, 0], maxQueueDepth: 4 });
    queue.disconnect(keys.requestStreams[1] as string);
    expect(door.pickStream(await refresh())).toBeUndefined();
  });

  test("without a fresh snapshot every shard is tried in turn", async () => {
    const { shedder: door, keys, queue, refresh } = shedder({ lags: [50, 0], maxQueueDepth: 10 });
    queue.disconnect(keys.requestStreams[1] as string);
    const stale = (await refresh()) + staleAfterMs + 1;
    expect([door.pickStream(stale), door.pickStream(stale)]).toEqual([...keys.requestStreams]);
  });
});

describe("LoadShedder: refusing when Redis memory is nearly full", () => {
  test("memory at MAX_REDIS_MEMORY_PERCENT of maxmemory sheds, and the fullest master counts", async () => {
    const memory = new FakeMemoryInfo();
    memory.masters = [
      { used: 10, max: 100 },
      { used: 90, max: 100 },
    ];
    const { shedder: door, refresh } = shedder({ lags: [0], maxQueueDepth: 10, memory, maxPercent: 90 });
    expect(door.memoryFullAt(await refresh())).toBe(90);
  });

  test("memory below the limit lets requests in", async () => {
    const memory = new FakeMemoryInfo();
    memory.masters = [{ used: 899, max: 1000 }];
    const { shedder: door, refresh } = shedder({ lags: [0], maxQueueDepth: 10, memory, maxPercent: 90 });
    expect(door.memoryFullAt(await refresh())).toBeUndefined();
  });

  test("a Redis without maxmemory is never full", async () => {
    const memory = new FakeMemoryInfo();
    memory.masters = [{ used: 10 ** 12, max: 0 }];
    const { shedder: door, refresh } = shedder({ lags: [0], maxQueueDepth: 10, memory, maxPercent: 1 });
    expect(door.memoryFullAt(await refresh())).toBeUndefined();
  });

  test("a memory reading older than two seconds is not trusted", async () => {
    const memory = new FakeMemoryInfo();
    memory.masters = [{ used: 100, max: 100 }];
    const {
      shedder: door,
      refresh,
      watcher,
    } = shedder({ lags: [0], maxQueueDepth: 10, memory, maxPercent: 90 });
    expect(door.memoryFullAt()).toBeUndefined();
    await refresh();
    const readAt = watcher?.latest?.readAt as number;
    expect(door.memoryFullAt(readAt + staleAfterMs)).toBe(100);
    expect(door.memoryFullAt(readAt + staleAfterMs + 1)).toBeUndefined();
  });

  test("with MAX_REDIS_MEMORY_PERCENT 100 (no watcher) memory never sheds", async () => {
    const { shedder: door, refresh } = shedder({ lags: [0], maxQueueDepth: 10 });
    expect(door.memoryFullAt(await refresh())).toBeUndefined();
  });
});
