import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("bad input is refused before anything touches Redis", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 10, ingressEnv: { MAX_BODY_BYTES: "1024" } });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const post = async (body: string, headers: Record<string, string> = {}, path = "/api/requests") => {
    const response = await fetch(`${stack.ingress.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      body: (await response.json()) as { error: string },
    };
  };

  const cases: [string, string, RegExp][] = [
    ["bad JSON", "{not json", /not valid JSON/],
    ["an empty body", "", /empty/],
    ["no payload", '{"timeoutMs": 100}', /payload/],
    ["an unknown field", '{"payload": 1, "timeoutMS": 100}', /timeoutMS/],
    [
      "timeoutMs as a string",
      '{"payload": 1, "timeoutMs": "100"}',
      /timeoutMs must be an integer from 1 to 300000/,
    ],
    ["timeoutMs of 0", '{"payload": 1, "timeoutMs": 0}', /timeoutMs/],
    ["timeoutMs above MAX_TIMEOUT_MS", '{"payload": 1, "timeoutMs": 300001}', /timeoutMs/],
    ["a fractional timeoutMs", '{"payload": 1, "timeoutMs": 1.5}', /timeoutMs/],
    ["a JSON array body", "[1, 2]", /Expected object/],
  ];
  for (const [what, body, message] of cases) {
    test(`${what} → 400 with a JSON error that says what is wrong`, async () => {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.type).toContain("application/json");
      expect(response.body.error).toMatch(message);
    });
  }

  // POST /api/requests is served by Bun's router directly; anything its exact-path match leaves
  // over (here a trailing slash) goes through the Elysia app. Both must answer alike.
  test("through Bun's router or through the Elysia app, the same answer to every bad body", async () => {
    for (const [, body] of cases) {
      const direct = await post(body);
      const viaApp = await post(body, {}, "/api/requests/");
      expect(viaApp).toEqual(direct);
      expect(direct.status).toBe(400);
    }
    const tooLarge = JSON.stringify({ payload: "x".repeat(2000) });
    expect(await post(tooLarge, {}, "/api/requests/")).toEqual(await post(tooLarge));
  });

  test("a body over MAX_BODY_BYTES → 413 with a JSON error", async () => {
    const response = await post(JSON.stringify({ payload: "x".repeat(2000) }));
    expect(response.status).toBe(413);
    expect(response.body.error).toMatch(/MAX_BODY_BYTES \(1024 bytes\)/);
  });

  test("a chunked body over MAX_BODY_BYTES → 413 too", async () => {
    const chunk = new TextEncoder().encode(`{"payload":"${"y".repeat(1500)}"}`);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const response = await fetch(`${stack.ingress.url}/api/requests`, { method: "POST", body: stream });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toMatch(/MAX_BODY_BYTES/);
  });

  test("an unknown request id format → 400, an unknown route → 404, both JSON", async () => {
    const bad = await fetch(`${stack.ingress.url}/api/requests/not-a-uuid`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/UUID/);
    const missing = await fetch(`${stack.ingress.url}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: expect.any(String) });
  });

  test("none of the refused requests reached Redis", async () => {
    expect(await stack.redis.client().xlen(stack.key("requests"))).toBe(0);
    expect(await stack.redis.client().keys(`${stack.prefix}:result:*`)).toEqual([]);
  });
});
