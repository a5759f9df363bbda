import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute and a half per test (each wait has its own deadline).
setDefaultTimeout(90_000);

/**
 * Found by `bun run chaos` (docs/reliability.md, bugs 1 and 2). A command sent to a Redis that
 * hangs (SIGSTOP) sits in the server's socket buffer; the services' watchdog closes the connection
 * after 2 s and the command fails, yet the server runs it when it resumes.
 *
 * 1. The XADD of a request: the ingress answered 503 "retry", so a client that retried got its
 *    request processed twice. An XADD whose outcome is unknown must not be answered 503: a sync
 *    request keeps waiting (answered, or 504 at its deadline).
 * 2. The SET NX of an Idempotency-Key claim: the ingress rightly answered 503 (nothing was queued),
 *    but the key then named a request that never ran, and every retry with it waited until its
 *    deadline for a 504, for RESULT_TTL_S. The ingress must remove such a claim once Redis is back.
 */
describe("Redis hung after a command was sent", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 10 });
  }, 60_000);
  afterAll(async () => {
    stack?.redis.resume();
    await stack?.stop();
  }, 60_000);

  test("an enqueue whose outcome is unknown is never answered 503, and what Redis ran after it resumed is answered", async () => {
    // The ingress's connections are up; Redis freezes with them open.
    stack.redis.pause();
    // Sent at once (no idempotency key, no stored record first): the XADD is the first command.
    const sync = stack.request({ payload: { case: "sync" }, timeoutMs: 30_000 });
    // Past the watchdog (2 s): the ingress closes its connections, failing the XADD in flight.
    await waitFor(
      "the ingress to notice that Redis stopped answering",
      async () => (await fetch(`${stack.ingress.url}/readyz`)).status === 503,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
    stack.redis.resume();
    const answer = await sync;
    // A request sent after Redis is back, answered: by then a buffered XADD has surely run.
    const after = await waitFor("a request to succeed after Redis resumed", async () => {
      const response = await stack.request({ payload: { case: "after" }, timeoutMs: 10_000 });
      return response.status === 200 ? response : undefined;
    });
    expect(after.body.result).toEqual({ echo: { case: "after" } });
    if (answer.status === 503) {
      // Only honest if the XADD never left (on a starved machine the request may have reached the
      // ingress after its connection was already closed): then nothing but `after` was queued.
      expect(await stack.entriesAdded()).toBe(1);
    } else {
      // The XADD ran when Redis resumed, so the request is answered as if nothing had happened.
      expect(answer.status).toBe(200);
      expect(answer.body.result).toEqual({ echo: { case: "sync" } });
      expect(await stack.entriesAdded()).toBe(2);
    }
  });

  test("an idempotency claim whose outcome is unknown is removed once Redis is back, so a retry with the key runs", async () => {
    const key = stack.key("idem:claim-unknown-1");
    const headers = { "idempotency-key": "claim-unknown-1" };
    const body = { payload: { case: "claim" }, timeoutMs: 20_000 };
    const before = await stack.entriesAdded();
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
    expect(await stack.entriesAdded()).toBe(before);
    await stack.ingress.waitReady(20_000);
    // The client does what 503 invites, and its request runs once.
    const retry = await stack.request(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.result).toEqual({ echo: { case: "claim" } });
    expect(await stack.entriesAdded()).toBe(before + 1);
  });
});
