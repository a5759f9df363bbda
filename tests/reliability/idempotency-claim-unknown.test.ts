import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute and a half per test (each wait has its own deadline).
setDefaultTimeout(90_000);

/**
 * Found while reading the chaos run's first bug (docs/reliability.md): an Idempotency-Key claimed
 * (SET NX) on a Redis that hangs. The watchdog fails the claim after 2 s, and the ingress answers
 * 503 because nothing was queued. But Redis runs the SET once it resumes. The key then named a
 * request that never ran, and every retry with that key waited until its deadline for a 504, for
 * RESULT_TTL_S. The ingress must remove such a claim once Redis is back.
 */
describe("an idempotency claim whose outcome is unknown (Redis hung after the SET was sent)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 10 });
  }, 60_000);
  afterAll(async () => {
    stack?.redis.resume();
    await stack?.stop();
  }, 60_000);

  test("is removed once Redis is back, so a retry with the key runs", async () => {
    const key = stack.key("idem:claim-unknown-1");
    const headers = { "idempotency-key": "claim-unknown-1" };
    const body = { payload: { case: "claim" }, timeoutMs: 20_000 };
    stack.redis.pause();
    const first = stack.request(body, headers);
    // Past the watchdog (2 s) the claim fails: nothing was queued, so 503 is the honest answer.
    const refused = await first;
    expect(refused.status).toBe(503);
    stack.redis.resume();
    // The SET ran when Redis resumed; the ingress removes the claim it knows never led anywhere.
    const admin = stack.redis.client();
    await waitFor("the orphaned claim to be removed", async () => (await admin.exists(key)) === 0, {
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(await stack.entriesAdded()).toBe(0);
    await stack.ingress.waitReady(20_000);
    // The client does what 503 invites, and its request runs once.
    const retry = await stack.request(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.result).toEqual({ echo: { case: "claim" } });
    expect(await stack.entriesAdded()).toBe(1);
  });
});
