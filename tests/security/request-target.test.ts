import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { rawRequest } from "../helpers/raw-http.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const key = `target-key-${crypto.randomUUID()}`;

/** Protected routes, and request targets that might reach them by another spelling. */
const paths = [
  "/api/requests",
  "/api/requests/",
  "/api/fleet",
  `/api/requests/${crypto.randomUUID()}`,
  "/proxy/x",
  "/proxy",
  // A prefix that a router assuming a 4-character host name would cut off.
  "/xx/api/requests",
  "/xx/api/fleet",
  "/proxy/zzzzzzzz/api/requests",
  "/xxxxx@evil.com:1234/proxy/x",
  "//api/requests",
  "/api//requests",
  "///api/fleet",
  "/API/requests",
  "/Api/Fleet",
  "/api/%72equests",
  "/%61pi/fleet",
  "/api%2frequests",
  "/proxy%2fx",
  "/./api/requests",
  "/a/../api/requests",
  "/api/./fleet",
  "/api/requests?x=1",
  "/api/requests;x",
  "/api/requests%00",
  "/api/requests%20",
  "/healthz/../api/fleet",
  "/swagger/../api/requests",
];

/** How the request line and Host header are written. */
const forms: { name: string; line: (path: string) => string; host: string | undefined }[] = [
  { name: "origin-form, Host a", line: (path) => path, host: "a" },
  { name: "origin-form, Host ab", line: (path) => path, host: "ab" },
  { name: "origin-form, Host localhost", line: (path) => path, host: "localhost" },
  { name: "origin-form, no Host", line: (path) => path, host: undefined },
  { name: "origin-form, empty Host", line: (path) => path, host: "" },
  { name: "origin-form, Host a@b", line: (path) => path, host: "a@b" },
  { name: "origin-form, Host a/b", line: (path) => path, host: "a/b" },
  { name: "origin-form, Host evil:1/x", line: (path) => path, host: "evil:1/x" },
  { name: "absolute-form", line: (path) => `http://a${path}`, host: "a" },
  { name: "absolute-form, other host", line: (path) => `http://evil.com:1234${path}`, host: "b" },
];

const body = '{"payload":{"who":"nobody"}}';

function requestBytes(method: string, target: string, host: string | undefined, version: string): string {
  const lines = [`${method} ${target} HTTP/${version}`];
  if (host !== undefined) lines.push(`Host: ${host}`);
  if (method !== "GET") lines.push("Content-Type: application/json", `Content-Length: ${body.length}`);
  lines.push("Connection: close", "", method === "GET" ? "" : body);
  return lines.join("\r\n");
}

describe("no request target reaches a protected route without a key", () => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: { API_KEYS: key } });
    port = stack.ingressPort;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("a battery of raw requests without a key: none answered 2xx or 3xx, nothing written to Redis", async () => {
    const passed: string[] = [];
    for (const path of paths)
      for (const form of forms)
        for (const method of ["GET", "POST"])
          for (const version of form.host === undefined ? ["1.0", "1.1"] : ["1.1"]) {
            const bytes = requestBytes(method, form.line(path), form.host, version);
            const answer = await rawRequest(port, bytes);
            if (answer.status === 0 || (answer.status >= 200 && answer.status < 400))
              passed.push(`${method} ${form.line(path)} (${form.name}, HTTP/${version}) → ${answer.status}`);
          }
    expect(passed).toEqual([]);
    expect(await stack.untouched()).toBe(true);
    expect(stack.ingress.exitCode).toBeNull();
  });

  test("the same odd forms with the key are served, so the battery above can tell", async () => {
    const withKey = (target: string, host: string) =>
      [
        `POST ${target} HTTP/1.1`,
        `Host: ${host}`,
        `Authorization: Bearer ${key}`,
        "Content-Type: application/json",
        `Content-Length: ${body.length}`,
        "Connection: close",
        "",
        body,
      ].join("\r\n");
    for (const [target, host] of [
      ["/api/requests", "a"],
      ["/api/requests/", "ab"],
      ["http://a/api/requests", "a"],
    ] as const) {
      const answer = await rawRequest(port, withKey(target, host));
      expect({ target, status: answer.status }).toEqual({ target, status: 200 });
    }
  });

  test("a request without a valid Host header is refused 400 with a JSON error, whatever its path", async () => {
    // HTTP/1.1 without any Host is refused by Bun itself (400, no body); the rest reach the gateway.
    expect((await rawRequest(port, requestBytes("GET", "/healthz", undefined, "1.1"))).status).toBe(400);
    for (const [host, version] of [
      [undefined, "1.0"],
      ["", "1.1"],
      ["a@b", "1.1"],
      ["a/b", "1.0"],
    ] as const) {
      const answer = await rawRequest(port, requestBytes("GET", "/healthz", host, version));
      expect({ host, status: answer.status }).toEqual({ host, status: 400 });
      expect(JSON.parse(answer.body).error).toMatch(/Host/);
    }
    // A short but valid host is routed like any other.
    expect((await rawRequest(port, requestBytes("GET", "/healthz", "a", "1.1"))).status).toBe(200);
  });
});
