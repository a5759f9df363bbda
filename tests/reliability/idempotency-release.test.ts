import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../helpers/ports.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

describe("an idempotency key whose request could not be recorded is released", () => {
  let stack: Stack;
  beforeAll(async () => {
    const port = await freePort();
    stack = await Stack.start({
      proxies: 1,
      processingMs: 1,
      env: { STREAM_PREFIX: "rsd" },
      // The ingress's user may claim idempotency keys but not (yet) write stored results.
      ingressEnv: { REDIS_URL: `redis://limited:limited-pw@127.0.0.1:${port}` },
      redis: {
        port,
        args: ["--user", "limited", "on", ">limited-pw", "~*", "&*", "+@all", "-set", "(~rsd:idem:* +set)"],
      },
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("the pending record fails (503); once Redis takes it, a retry with the same key runs and succeeds", async () => {
    const headers = { "idempotency-key": `release-${crypto.randomUUID()}` };
    const body = { payload: { order: 1 }, timeoutMs: 3000 };
    const first = await stack.request(body, headers);
    expect(first.status).toBe(503);
    await stack.redis.client().call("ACL", "SETUSER", "limited", "(~rsd:result:* +set)");
    const retry = await stack.request(body, headers);
    expect(retry.status).toBe(200);
    expect(retry.body.result).toEqual({ echo: { order: 1 } });
  });
});
