import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../helpers/ports.ts";
import { Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("HANDLER=http: the proxy forwards to a real backend through its terminals", () => {
  let upstream: TestUpstream;
  let stack: Stack;
  beforeAll(async () => {
    upstream = new TestUpstream();
    stack = await Stack.start({
      proxies: 2,
      terminals: 5,
      proxyEnv: { HANDLER: "http", UPSTREAM_URL: upstream.url, MAX_DELIVERIES: "3", CLAIM_IDLE_MS: "1000" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    upstream?.stop();
  }, 60_000);

  const via = (path: string, init: RequestInit = {}) => fetch(`${stack.ingress.url}/proxy${path}`, init);

  test("300 requests: the backend's status, headers and bodies byte for byte, never more than 10 at once", async () => {
    const expectedBinary = new Uint8Array(Array.from({ length: 256 }, (_, index) => index));
    const results = await Promise.all(
      Array.from({ length: 300 }, async (_, index) => {
        const kind = index % 3;
        if (kind === 0) {
          const response = await via(`/echo?ms=20&i=${index}`, { method: "POST", body: `body-${index}` });
          const body = (await response.json()) as { query: string; body: string; method: string };
          return (
            response.status === 200 &&
            body.body === `body-${index}` &&
            body.query === `?ms=20&i=${index}` &&
            body.method === "POST" &&
            response.headers.get("x-upstream") === "yes"
          );
        }
        if (kind === 1) {
          const response = await via("/binary?ms=20");
          const bytes = new Uint8Array(await response.arrayBuffer());
          return (
            response.status === 200 &&
            response.headers.get("content-type") === "application/octet-stream" &&
            Buffer.compare(Buffer.from(bytes), Buffer.from(expectedBinary)) === 0
          );
        }
        const response = await via("/missing?ms=20");
        return (
          response.status === 404 &&
          response.headers.get("x-reason") === "missing" &&
          JSON.stringify(await response.json()) === JSON.stringify({ error: "no such thing" })
        );
      }),
    );
    expect(results.filter((ok) => !ok)).toHaveLength(0);
    expect(upstream.maxInFlight).toBeGreaterThan(1);
    expect(upstream.maxInFlight).toBeLessThanOrEqual(10);
  });

  test("hop-by-hop headers stay behind; X-Forwarded-* are added", async () => {
    const response = await via("/echo?x=1", {
      headers: {
        connection: "keep-alive, x-secret-hop",
        "x-secret-hop": "1",
        "keep-alive": "timeout=5",
        "x-custom": "kept",
        te: "trailers",
      },
    });
    const seen = ((await response.json()) as { headers: Record<string, string> }).headers;
    expect(seen["x-custom"]).toBe("kept");
    expect(seen["x-secret-hop"]).toBeUndefined();
    expect(seen["keep-alive"]).toBeUndefined();
    expect(seen.te).toBeUndefined();
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
    expect(seen["x-forwarded-proto"]).toBe("http");
    expect(seen["x-forwarded-host"]).toBe(new URL(stack.ingress.url).host);
    expect(seen.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test("an upstream slower than the deadline → 504 at the deadline, and the upstream call is aborted", async () => {
    const started = performance.now();
    const response = await via("/echo?ms=5000", { headers: { "x-timeout-ms": "400" } });
    const elapsed = performance.now() - started;
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ id: expect.any(String), status: "timeout" });
    expect(elapsed).toBeGreaterThanOrEqual(395);
    expect(elapsed).toBeLessThan(400 + 1000);
    const { waitFor } = await import("../helpers/wait.ts");
    await waitFor("the upstream to see its request aborted", () => upstream.aborted.includes("/echo"));
  });

  test("an upstream 5xx: POST without Idempotency-Key is tried once and passed through, GET is retried", async () => {
    const before = upstream.callsTo("/broken");
    const post = await via("/broken", { method: "POST", body: "x" });
    expect(post.status).toBe(503);
    expect(await post.text()).toBe("backend exploded");
    expect(upstream.callsTo("/broken") - before).toBe(1);

    const get = await via("/broken");
    expect(get.status).toBe(503); // the last attempt's answer passes through
    expect(upstream.callsTo("/broken") - before).toBe(1 + 3);

    const keyed = await via("/broken", {
      method: "POST",
      body: "x",
      headers: { "idempotency-key": `k-${Date.now()}` },
    });
    expect(keyed.status).toBe(503);
    expect(upstream.callsTo("/broken") - before).toBe(1 + 3 + 3);
  });

  test("the JSON API keeps working with the http handler: the payload is POSTed, the JSON answer returned", async () => {
    const { status, body } = await stack.request({ payload: { order: 7 } });
    expect(status).toBe(200);
    // UPSTREAM_URL itself receives the POST; a text answer becomes a JSON string result.
    expect(body.result).toBe("ok POST /");
    const call = upstream.seen.findLast((seen) => seen.path === "/");
    expect(call?.method).toBe("POST");
    expect(call?.headers["content-type"]).toBe("application/json");
  });
});

describe("HANDLER=http with the backend down", () => {
  let stack: Stack;
  beforeAll(async () => {
    const nothingThere = `http://127.0.0.1:${await freePort()}`;
    stack = await Stack.start({
      proxies: 1,
      terminals: 2,
      proxyEnv: { HANDLER: "http", UPSTREAM_URL: nothingThere, MAX_DELIVERIES: "3" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("→ 502 naming the cause; POST is not retried, GET is", async () => {
    const post = await fetch(`${stack.ingress.url}/proxy/orders`, { method: "POST", body: "{}" });
    expect(post.status).toBe(502);
    const postBody = (await post.json()) as { status: string; error: string };
    expect(postBody.status).toBe("failed");
    expect(postBody.error).toMatch(/failed after 1 attempt\(s\): upstream unreachable/);

    const get = await fetch(`${stack.ingress.url}/proxy/orders`);
    expect(get.status).toBe(502);
    expect(((await get.json()) as { error: string }).error).toMatch(
      /failed after 3 attempt\(s\): upstream unreachable/,
    );
  });
});
