import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("hostile input gets a clear 4xx and leaves nothing in Redis", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 1 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const post = (body: string, headers: Record<string, string> = {}, path = "/api/requests") =>
    fetch(`${stack.ingress.url}${path}`, { method: "POST", headers, body });

  test("a URL over 4096 characters → 414", async () => {
    const response = await post("{}", {}, `/api/requests?pad=${"x".repeat(5000)}`);
    expect(response.status).toBe(414);
    expect(((await response.json()) as { error: string }).error).toMatch(/URL/);
  });

  test("more than 100 headers, or over 8 KiB of them → 431 JSON", async () => {
    const many = Object.fromEntries(Array.from({ length: 120 }, (_, index) => [`x-h${index}`, "1"]));
    const tooMany = await post('{"payload":1}', many);
    expect(tooMany.status).toBe(431);
    const big = await post('{"payload":1}', { "x-big": "y".repeat(10_000) });
    expect(big.status).toBe(431);
    expect(((await big.json()) as { error: string }).error).toMatch(/headers/);
  });

  test("JSON nested deeper than 64 levels → 400, whatever the size", async () => {
    const deep = `{"payload":${"[".repeat(100)}${"]".repeat(100)}}`;
    const response = await post(deep);
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(/nested deeper than 64/);
    const absurd = `{"payload":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    const huge = await post(absurd);
    expect(huge.status).toBe(400);
  });

  test("error bodies carry no stack traces or internals", async () => {
    for (const body of ["{", '{"payload":1,"timeoutMs":-1}', "[]", "null", '"text"']) {
      const text = await (await post(body)).text();
      expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b|Error:/);
    }
  });

  test("asset names that an object literal would find on Object.prototype are a plain 404", async () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "..%2Fpackage.json"]) {
      const response = await fetch(`${stack.ingress.url}/swagger/assets/${name}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: string }).error).toBe("no such asset");
    }
  });

  test("none of it reached Redis", async () => {
    expect(await stack.redis.client().xlen(stack.key("requests"))).toBe(0);
  });
});
