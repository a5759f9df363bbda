import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { encodeDeadLetter, type RequestMessage } from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";

const entryPoint = resolve(import.meta.dir, "../../tools/dlq/main.ts");

describe("bun run dlq", () => {
  let redis: TestRedis;
  const prefix = `dlq${Date.now().toString(36)}`;
  const requestId = crypto.randomUUID();
  let replayable: string;
  let foreign: string;

  async function dlq(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const child = Bun.spawn(["bun", entryPoint, ...args], {
      env: { ...process.env, REDIS_URL: redis.url, STREAM_PREFIX: prefix },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const timer = setTimeout(() => child.kill(), 30_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    clearTimeout(timer);
    return { code, stdout, stderr };
  }

  beforeAll(async () => {
    redis = await TestRedis.start();
    const now = Date.now();
    const request: RequestMessage = {
      id: requestId,
      replyTo: `${prefix}:replies:gone-000000`,
      deadline: now + 5000,
      enqueuedAt: now,
      payload: '{"n":1}',
      attempt: 3,
      resultTtlS: 60,
      kind: "json",
      retrySafe: false,
    };
    const letter = { requestId, entry: "1-0", attempts: 3, error: "backend said no", failedAt: now };
    const client = redis.client();
    replayable = (await client.xadd(
      `${prefix}:dead`,
      "*",
      ...encodeDeadLetter({ ...letter, payload: request.payload, request }),
    )) as string;
    // No request metadata (as an older proxy wrote), so it can only be deleted; it names the lane
    // it was read from (tenant acme, urgency 0), which the listing must show.
    foreign = (await client.xadd(
      `${prefix}:dead`,
      "*",
      ...encodeDeadLetter({ ...letter, requestId: "old", tenant: "acme", urgency: 0 }),
    )) as string;
  }, 30_000);
  afterAll(async () => {
    await redis?.destroy();
  });

  test("list, replay, purge, and refusals of bad arguments", async () => {
    const list = await dlq("list", "--json");
    expect(list.code).toBe(0);
    const page = JSON.parse(list.stdout) as {
      total: number;
      entries: { entryId: string; replayable: boolean; tenant: string | null; urgency: number }[];
    };
    expect(page.total).toBe(2);
    expect(
      page.entries.map((entry) => [entry.entryId, entry.replayable, entry.tenant, entry.urgency]),
    ).toEqual([
      [foreign, false, "acme", 0],
      [replayable, true, null, 3],
    ]);
    const table = (await dlq("list")).stdout.split("\n");
    expect(table[1]).toBe("entry\trequest\tfailed\tattempts\ttenant\turgency\treplay\terror");
    const columns = (entryId: string) => table.find((line) => line.startsWith(entryId))?.split("\t");
    expect(columns(foreign)?.slice(3)).toEqual(["3", "acme", "u=0", "-", "backend said no"]);
    expect(columns(replayable)?.slice(4, 7)).toEqual(["-", "u=3", "replayable"]);

    const replay = await dlq("replay", replayable, foreign);
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain(`${replayable}\treplayed\t${requestId}`);
    expect(replay.stdout).toContain(`${foreign}\tnot-replayable`);
    const client = redis.client();
    const [entry] = (await client.xrange(`${prefix}:requests`, "-", "+")) as [string, string[]][];
    const fields = entry?.[1] ?? [];
    const words = (fields[1] as string).split(" ");
    expect(words[0]).toBe(requestId);
    expect(words[1]).toBe("-"); // nobody waits for a replay
    expect(words[4]).toBe("1"); // a fresh attempt count
    expect(Number(words[2]) - Number(words[3])).toBe(5000); // a fresh deadline as long as the first
    expect(JSON.parse((await client.get(`${prefix}:result:${requestId}`)) as string).status).toBe("pending");

    const purge = await dlq("purge", "--error", "SAID NO");
    expect(JSON.parse(purge.stdout)).toMatchObject({ matched: 1, done: 1, next: null });
    expect(await client.xlen(`${prefix}:dead`)).toBe(0);

    for (const args of [
      ["replay"],
      ["purge", "1-0", "--all"],
      ["list", "--count", "0"],
      ["show", "nope"],
      ["frobnicate"],
    ]) {
      const refused = await dlq(...args);
      expect({ args, code: refused.code }).toEqual({ args, code: 2 });
    }
  }, 60_000);
});
