import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

/**
 * A key whose owner was never recorded (docs/reliability.md: a claim a hung Redis stored after the
 * ingress gave up on it, until the ingress removes it). A duplicate used to follow that owner: a
 * sync one waited until its deadline for a 504, an async one got 202 and then 404 on every poll.
 * It must be refused with 503 instead: it was not queued, and its retry will find the key free.
 */
describe("an Idempotency-Key whose owner has no stored record", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 10 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  /** Stores a claim as a lost SET would have: the request's id and hash, and nothing else. */
  async function orphanClaim(key: string, payload: unknown, timeoutMs: number): Promise<string> {
    const id = "0190d9c4-0000-7000-8000-000000000001";
    const hash = createHash("sha256")
      .update(`${timeoutMs}\n${JSON.stringify(payload)}`)
      .digest("base64url");
    await stack.redis.client().set(stack.key(`idem:${key}`), `${id} ${hash}`, "EX", 3600);
    return id;
  }

  test("a sync duplicate is refused with 503 at once, not held to its deadline", async () => {
    const payload = { case: "orphan-sync" };
    await orphanClaim("orphan-sync", payload, 120_000);
    // A deadline far beyond the test's own timeout: waiting for it would fail the test.
    const answer = await stack.request({ payload, timeoutMs: 120_000 }, { "idempotency-key": "orphan-sync" });
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("1");
    expect(answer.body.error).toMatch(/Idempotency-Key/);
    expect(await stack.entriesAdded()).toBe(0);
  });

  test("an async duplicate is refused with 503, not accepted under an id nobody will answer", async () => {
    const payload = { case: "orphan-async" };
    await orphanClaim("orphan-async", payload, 30_000);
    const answer = await stack.request(
      { payload, timeoutMs: 30_000 },
      { "idempotency-key": "orphan-async", prefer: "respond-async" },
    );
    expect(answer.status).toBe(503);
    expect(await stack.entriesAdded()).toBe(0);
  });

  test("once the claim is gone, the same request with the key runs", async () => {
    const payload = { case: "orphan-gone" };
    await orphanClaim("orphan-gone", payload, 30_000);
    await stack.redis.client().del(stack.key("idem:orphan-gone"));
    const answer = await stack.request({ payload, timeoutMs: 30_000 }, { "idempotency-key": "orphan-gone" });
    expect(answer.status).toBe(200);
    expect(answer.body.result).toEqual({ echo: payload });
  });
});
