import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { decodeDeadLetter } from "@rsd/shared";
import { rawRequest } from "../helpers/raw-http.ts";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

/** No API keys: X-Tenant names the tenant (unauthenticated, see SECURITY.md). */
describe("tenants without API keys: X-Tenant, isolation, hostile names", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      processingMs: 5,
      ingressEnv: { TENANT_METRICS_MAX: "3" },
      env: { MAX_DELIVERIES: "1" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const status = (id: string, tenant?: string) =>
    fetch(`${stack.ingress.url}/api/requests/${id}`, { headers: tenant ? { "x-tenant": tenant } : {} });

  test("a tenant reads its own stored result; another tenant, or default, gets the same 404 as an unknown id", async () => {
    const sent = await stack.request({ payload: { n: 1 } }, { "x-tenant": "acme", prefer: "respond-async" });
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    const done = await waitFor("acme's result", async () => {
      const response = await status(id, "acme");
      const body = (await response.json()) as { status: string };
      return body.status === "completed" ? body : undefined;
    });
    expect(done).toMatchObject({ status: "completed", result: { echo: { n: 1 } } });
    for (const other of ["globex", undefined]) {
      const response = await status(id, other);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: "unknown request id, or its result has expired" });
    }
    // Stored under acme's name; default's name for that id holds nothing.
    const redis = stack.redis.client();
    expect(await redis.exists(stack.key(`tresult:acme:${id}`))).toBe(1);
    expect(await redis.exists(stack.key(`result:${id}`))).toBe(0);
  });

  test("the default tenant keeps today's key names", async () => {
    const sent = await stack.request(
      { payload: 1 },
      { prefer: "respond-async", "idempotency-key": "plain-1" },
    );
    const id = sent.body.id as string;
    const redis = stack.redis.client();
    expect(await redis.exists(stack.key(`idem:plain-1`))).toBe(1);
    await waitFor("default's result", async () => {
      const body = (await (await status(id)).json()) as { status: string };
      return body.status === "completed";
    });
    expect(await redis.exists(stack.key(`result:${id}`))).toBe(1);
  });

  test("the same Idempotency-Key in two tenants is two requests; repeated in one tenant, one", async () => {
    const send = (tenant: string) =>
      stack.request({ payload: { same: true } }, { "x-tenant": tenant, "idempotency-key": "order-42" });
    const [a1, b1] = await Promise.all([send("acme"), send("globex")]);
    const a2 = await send("acme");
    expect([a1.status, b1.status, a2.status]).toEqual([200, 200, 200]);
    expect(a1.body.id).not.toBe(b1.body.id);
    expect(a2.body.id).toBe(a1.body.id);
    // A tenant named like the start of a key never meets a key of default's either.
    const plain = await stack.request({ payload: { same: true } }, { "idempotency-key": "acme:order-42" });
    expect(plain.body.id).not.toBe(a1.body.id);
  });

  test("a dead letter names its tenant", async () => {
    const sent = await stack.request({ payload: { simulate: { fail: true } } }, { "x-tenant": "initech" });
    expect(sent.status).toBe(502);
    const letter = await waitFor("the dead letter", async () => {
      const entries = await stack.redis.client().xrange(stack.key("dead"), "-", "+");
      return entries
        .map(([, fields]) => decodeDeadLetter(fields))
        .find((dead) => dead.requestId === sent.body.id);
    });
    expect(letter.tenant).toBe("initech");
  });

  test("hostile X-Tenant values, straight off the socket: 400 JSON, nothing enqueued", async () => {
    const before = await stack.entriesAdded();
    const hostile = ["a:b", "{x}", "*", "a b", "a".repeat(200), "Ünï", "other", "", "ACME", "a\tb", "../x"];
    const body = '{"payload":1}';
    for (const value of hostile) {
      const answer = await rawRequest(
        stack.ingressPort,
        `POST /api/requests HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n` +
          `X-Tenant: ${value}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      // An empty header value is no tenant name either; Bun may also refuse raw non-ASCII bytes itself.
      expect([400]).toContain(answer.status);
      expect(JSON.parse(answer.body).error).toMatch(/X-Tenant/);
    }
    // Two X-Tenant headers arrive joined ("a, b"): refused, not one of them picked.
    const twice = await rawRequest(
      stack.ingressPort,
      `POST /api/requests HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nX-Tenant: acme\r\n` +
        `X-Tenant: globex\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(twice.status).toBe(400);
    // The same on /proxy/* and on GET /api/requests/:id.
    const proxied = await rawRequest(
      stack.ingressPort,
      "GET /proxy/x HTTP/1.1\r\nHost: t\r\nX-Tenant: {x}\r\nConnection: close\r\n\r\n",
    );
    expect(proxied.status).toBe(400);
    const read = await rawRequest(
      stack.ingressPort,
      `GET /api/requests/${crypto.randomUUID()} HTTP/1.1\r\nHost: t\r\nX-Tenant: *\r\nConnection: close\r\n\r\n`,
    );
    expect(read.status).toBe(400);
    expect(await stack.entriesAdded()).toBe(before);
  });

  test("any Priority header is a hint: malformed ones are served with the default urgency", async () => {
    for (const priority of ["u=0", "u=7, i", "u=9", "garbage;;;", "u=1, u=", "x".repeat(2000)]) {
      const answer = await stack.request({ payload: 1 }, { priority });
      expect(answer.status).toBe(200);
    }
  });

  test("rsd_tenant_requests_total counts per tenant and status, and folds tenants past TENANT_METRICS_MAX into other", async () => {
    for (const tenant of ["t1", "t2", "t3", "t4", "t5"]) {
      expect((await stack.request({ payload: 1 }, { "x-tenant": tenant })).status).toBe(200);
    }
    const text = await (await fetch(`${stack.ingress.url}/metrics`)).text();
    const tenants = new Set(
      [...text.matchAll(/^rsd_tenant_requests_total\{tenant="([^"]+)"/gm)].map((match) => match[1]),
    );
    // acme, default and globex came first; every later tenant is `other`.
    expect(tenants.size).toBe(4);
    expect(tenants.has("other")).toBe(true);
    expect(
      await metricValue(stack.ingress.url, "rsd_tenant_requests_total", { tenant: "other", status: "200" }),
    ).toBeGreaterThanOrEqual(5);
  });
});
