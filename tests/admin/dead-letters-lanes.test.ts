import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { adminKey, call, DeadLetterStack } from "./support.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(90_000);

const acmeKey = "acme-key-0123456789abcdef";

/** TENANT_LANES=on: a tenant's replayed request must come back through its lane, not the shared stream. */
describe("dead-letter replay with TENANT_LANES", () => {
  let dl: DeadLetterStack;
  beforeAll(async () => {
    dl = await DeadLetterStack.start({
      TENANT_LANES: "on",
      ADMIN_API_KEYS: `ops:${adminKey}`,
      API_KEYS: `acme:${acmeKey}`,
    });
  }, 60_000);
  afterAll(async () => {
    await dl?.stop();
  }, 60_000);

  /** Entries ever added to the shard's request stream (the default lane): a replay there adds one. */
  const addedToShardStream = async () => {
    const info = (await dl.stack.redis.client().xinfo("STREAM", dl.stack.key("requests"))) as unknown[];
    return Number(info[info.indexOf("entries-added") + 1]);
  };

  /** The letter of request `id`, as the admin API lists it. */
  const letterOf = async (id: string) =>
    (
      (await call(dl.url, "/api/admin/dead-letters?count=10", { key: adminKey })).body.entries as {
        entryId: string;
        requestId: string;
        tenant: string;
        urgency: number;
      }[]
    ).find((entry) => entry.requestId === id);

  /** Brings the backend back, replays the letter, and waits for the request to complete. */
  const replayToCompletion = async (id: string, entryId: string | undefined) => {
    dl.backendUp();
    const replayed = await call(dl.url, `/api/admin/dead-letters/${entryId}/replay`, {
      key: adminKey,
      method: "POST",
    });
    expect(replayed.status).toBe(200);
    expect((await dl.outcome(id, 200, acmeKey)).status).toBe("completed");
  };

  test("acme's letter is replayed onto acme's lane and completes; the shared stream gets nothing", async () => {
    const id = await dl.failedRequest("lane", acmeKey);
    const letter = await letterOf(id);
    expect({ tenant: letter?.tenant, urgency: letter?.urgency }).toEqual({ tenant: "acme", urgency: 3 });
    const before = await addedToShardStream();
    await replayToCompletion(id, letter?.entryId);
    expect(await addedToShardStream()).toBe(before);
  });

  test("a request sent with Priority: u=0 keeps that urgency in its letter, and its replay completes", async () => {
    dl.backendDown();
    const id = await dl.failedRequest("urgent", acmeKey, { priority: "u=0" });
    const letter = await letterOf(id);
    // The proxy read it from acme's lane of urgency 0 and said so in the letter.
    expect({ tenant: letter?.tenant, urgency: letter?.urgency }).toEqual({ tenant: "acme", urgency: 0 });
    await replayToCompletion(id, letter?.entryId);
  });
});
