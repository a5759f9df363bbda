import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { UnrecoverableError } from "../../proxy/src/handlers/handler.ts";
import { UpstreamTarget } from "../../proxy/src/handlers/upstream-url.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const key = `forward-key-${crypto.randomUUID()}`;
const responseLimit = 65_536;

describe("the upstream URL: the client never changes scheme, host, port or base path", () => {
  const target = new UpstreamTarget("http://upstream:8080/api");
  const hostile = [
    "@evil.com:1234/x",
    "/@evil.com:1234/x",
    "//evil.com/x",
    "///evil.com/x",
    "/%2f%2fevil.com/x",
    "/\\\\evil.com/x",
    "/..",
    "/../admin",
    "/%2e%2e/admin",
    "/%2E%2E/%2e%2e/etc",
    "/a/../../admin",
    "http://evil.com/x",
    "/x\r\nHost: evil.com",
    "/x y",
  ];
  for (const path of hostile) {
    test(`${JSON.stringify(path)} stays on upstream:8080 under /api, or is refused`, () => {
      try {
        const url = new URL(target.urlFor(path, "?q=1"));
        expect(url.origin).toBe("http://upstream:8080");
        expect(url.username + url.password).toBe("");
        expect(url.pathname === "/api" || url.pathname.startsWith("/api/")).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(UnrecoverableError);
      }
    });
  }

  test("ordinary paths and queries pass as they are", () => {
    expect(target.urlFor("/orders/7", "?x=%2F&y=@")).toBe("http://upstream:8080/api/orders/7?x=%2F&y=@");
    expect(target.urlFor("/", "")).toBe("http://upstream:8080/api/");
    expect(new UpstreamTarget("http://upstream:8080/").urlFor("//x", "")).toBe("http://upstream:8080//x");
    expect(target.root).toBe("http://upstream:8080/api");
  });
});

/** A backend under /api that records what it is asked, and a second listener that must hear nothing. */
class Backend {
  readonly calls: { path: string; headers: [string, string][] }[] = [];
  evilCalls = 0;
  readonly server: Server<undefined>;
  readonly evil: Server<undefined>;
  constructor() {
    this.server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (request) => this.handle(request) });
    this.evil = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => {
        this.evilCalls++;
        return new Response("evil");
      },
    });
  }
  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.calls.push({ path: url.pathname, headers: [...request.headers] });
    if (url.searchParams.has("ms")) await Bun.sleep(Number(url.searchParams.get("ms")));
    if (url.pathname === "/api" && (await request.text()).includes("fail"))
      return new Response("stack trace at db.internal:5432 password=hunter2", { status: 500 });
    if (url.pathname === "/api/big")
      return new Response(new Uint8Array(10 * 1024 * 1024), {
        headers: { "content-length": String(10 * 1024 * 1024) },
      });
    if (url.pathname === "/api/big-chunked") {
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (sent++ >= 160) return controller.close();
          controller.enqueue(chunk);
        },
      });
      return new Response(body);
    }
    return Response.json({ path: url.pathname, ok: true });
  }
  stop() {
    this.server.stop(true);
    this.evil.stop(true);
  }
}

describe("forwarding through a real stack with API keys", () => {
  let backend: Backend;
  let stack: Stack;
  let port: number;
  const auth = { authorization: `Bearer ${key}` };
  beforeAll(async () => {
    backend = new Backend();
    stack = await Stack.start({
      proxies: 1,
      terminals: 4,
      ingressEnv: { API_KEYS: key },
      proxyEnv: {
        HANDLER: "http",
        UPSTREAM_URL: `http://127.0.0.1:${backend.server.port}/api`,
        MAX_UPSTREAM_RESPONSE_BYTES: String(responseLimit),
        MAX_DELIVERIES: "3",
      },
    });
    port = Number(new URL(stack.ingress.url).port);
  });
  afterAll(async () => {
    await stack?.stop();
    backend?.stop();
  });

  test("hostile paths never reach another listener, and never leave the backend's /api", async () => {
    const evil = `127.0.0.1:${backend.evil.port}`;
    const targets = [
      `/proxy/@${evil}/x`,
      `/proxy//${evil}/x`,
      `/proxy/%2f%2f${evil}/x`,
      `/proxy/%2e%2e/%2e%2e/${evil}`,
      `/proxy/..%2f..%2fadmin`,
      `/proxy/%2e%2e/admin`,
      `http://${evil}/proxy/x`,
      `/xxxxx@${evil}/proxy/x`,
    ];
    const statuses: number[] = [];
    for (const target of targets) {
      const answer = await rawRequest(
        port,
        `GET ${target} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`,
      );
      statuses.push(answer.status);
    }
    expect(statuses.every((status) => status > 0)).toBe(true);
    expect(backend.evilCalls).toBe(0);
    expect(backend.calls.filter((call) => call.path !== "/api" && !call.path.startsWith("/api/"))).toEqual(
      [],
    );
  });

  test("the client's API key is neither stored in Redis nor sent to the backend; X-Forwarded-* are the gateway's", async () => {
    const answer = rawRequest(
      port,
      [
        "GET /proxy/slow?ms=1500 HTTP/1.1",
        "Host: localhost",
        `Authorization: Bearer ${key}`,
        "X-Forwarded-For: 10.1.1.1",
        "X-Forwarded-For: 10.2.2.2",
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Proto: https",
        "Forwarded: for=1.2.3.4;host=evil.example",
        "Connection: close",
        "",
        "",
      ].join("\r\n"),
    );
    // While the request waits on the backend it is an entry of the request stream: look at it.
    const redis = stack.redis.client();
    const entry = await waitFor("the forwarded request in the stream", async () => {
      const entries = await redis.xrange(stack.key("requests"), "-", "+");
      return entries.find(([, fields]) => fields.join(" ").includes("/slow"));
    });
    const stored = entry[1].join("\n");
    expect(stored).not.toContain(key);
    const envelope = JSON.parse(entry[1][entry[1].indexOf("payload") + 1] as string) as {
      headers: [string, string][];
    };
    const named = (name: string) => envelope.headers.filter(([header]) => header === name).map(([, v]) => v);
    expect(named("x-forwarded-for")).toEqual(["10.1.1.1, 10.2.2.2, 127.0.0.1"]);
    expect(named("x-forwarded-host")).toEqual([`localhost`]);
    expect(named("x-forwarded-proto")).toEqual(["http"]);
    expect(named("forwarded")).toEqual([]);
    expect(named("authorization")).toEqual([]);
    expect((await answer).status).toBe(200);
    const call = backend.calls.find((candidate) => candidate.path === "/api/slow");
    expect(call?.headers.some(([name]) => name === "authorization")).toBe(false);
  });

  for (const path of ["/big", "/big-chunked"]) {
    test(`a backend answer over MAX_UPSTREAM_RESPONSE_BYTES (${path}): 502, not retried, the proxy stays up`, async () => {
      const before = backend.calls.filter((call) => call.path === `/api${path}`).length;
      const response = await fetch(`${stack.ingress.url}/proxy${path}`, { headers: auth });
      expect(response.status).toBe(502);
      expect(((await response.json()) as { error: string }).error).toContain("MAX_UPSTREAM_RESPONSE_BYTES");
      expect(backend.calls.filter((call) => call.path === `/api${path}`).length - before).toBe(1);
      expect(stack.proxies[0]!.exitCode).toBeNull();
      const next = await fetch(`${stack.ingress.url}/proxy/after`, { headers: auth });
      expect(next.status).toBe(200);
    });
  }

  test("the same forwarded request twice with one Idempotency-Key: one backend call, the same answer", async () => {
    const headers = {
      ...auth,
      "idempotency-key": `fwd-${crypto.randomUUID()}`,
      "content-type": "text/plain",
    };
    const send = () =>
      fetch(`${stack.ingress.url}/proxy/orders?id=7`, { method: "POST", headers, body: "order 7" });
    const first = await send();
    const second = await send();
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await second.text()).toBe(await first.text());
    expect(backend.calls.filter((call) => call.path === "/api/orders")).toHaveLength(1);
  });

  test("a backend's error text stays in the proxy's log, out of the client's 502 and the dead letter", async () => {
    const response = await fetch(`${stack.ingress.url}/api/requests`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ payload: { please: "fail" } }),
    });
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).toContain("upstream answered 500");
    expect(text).not.toMatch(/hunter2|db\.internal/);
    const dead = await stack.redis.client().xrange(stack.key("dead"), "-", "+");
    expect(dead.map(([, fields]) => fields.join(" ")).join("\n")).not.toMatch(/hunter2|db\.internal/);
  });
});
