import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { adminKey, clientKey, keyedEnv } from "../admin/support.ts";
import { rawRequest } from "../helpers/raw-http.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(120_000);

/** The admin routes, and request targets that might reach them by another spelling. */
const paths = [
  "/console",
  "/console/",
  "//console",
  "/console//",
  "/%63onsole",
  "/CONSOLE",
  "/Console/assets/console.js",
  "/console/assets/console.js",
  "/console/assets/%63onsole.js",
  "/console/assets/chart.umd.min.js",
  "/console/./assets/console.js",
  "/./console",
  "/a/../console",
  "/console;x",
  "/console%00",
  "/console%20",
  "/console?x=1",
  "/xx/console",
  "/api/admin/events",
  "/api/admin/events/",
  "//api/admin/events",
  "/api//admin/events",
  "/api/%61dmin/events",
  "/%61pi/admin/events",
  "/api/admin%2fevents",
  "/API/admin/events",
  "/xx/api/admin/events",
  "/api/admin/dead-letters",
  "/api/admin/dead-letters/",
  "/api/admin/dead-letters/1-1",
  "/api/admin/dead-letters/1-1/replay",
  "/api/admin/dead-letters/1-1/replay/",
  "/api/admin/dead-letters/bulk-purge",
  "/api/admin/dead-letters/bulk-replay",
  "/api/admin//dead-letters/1-1",
  "/api/admin/%64ead-letters/1-1",
  "/api/admin/dead-letters/%31-1",
  "/console/../api/admin/dead-letters",
  "/healthz/../api/admin/dead-letters/1-1",
  "/swagger/../console",
];

const forms: { name: string; line: (path: string) => string; host: string }[] = [
  { name: "origin-form, Host a", line: (path) => path, host: "a" },
  { name: "origin-form, Host localhost", line: (path) => path, host: "localhost" },
  { name: "origin-form, Host evil:1/x", line: (path) => path, host: "evil:1/x" },
  { name: "absolute-form", line: (path) => `http://a${path}`, host: "a" },
  { name: "absolute-form, other host", line: (path) => `http://evil.com:1234${path}`, host: "b" },
];

const body = '{"all":true}';

function requestBytes(method: string, target: string, host: string, key?: string): string {
  const lines = [`${method} ${target} HTTP/1.1`, `Host: ${host}`];
  if (key) lines.push(`Authorization: Bearer ${key}`);
  if (method !== "GET") lines.push("Content-Type: application/json", `Content-Length: ${body.length}`);
  lines.push("Connection: close", "", method === "GET" ? "" : body);
  return lines.join("\r\n");
}

describe("no request target reaches an admin route without the admin key", () => {
  let stack: Stack;
  let port: number;
  let letter: string;
  const target = (path: string) => path.replaceAll("1-1", letter);
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: keyedEnv });
    port = stack.ingressPort;
    // One dead letter that a request getting through could replay or delete.
    // A recent id: the proxies trim letters older than DEAD_LETTER_MAX_AGE_S.
    letter = `${Date.now()}-7`;
    const fields = ["id", crypto.randomUUID(), "entry", "1-0", "error", "x", "failedAt", String(Date.now())];
    await stack.redis.client().xadd(stack.key("dead"), letter, ...fields);
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("raw requests without a key, with a client key, with a wrong key: none answered 2xx or 3xx", async () => {
    const passed: string[] = [];
    for (const key of [undefined, clientKey, "wrong-key-0123456789abcdef"])
      for (const path of paths)
        for (const form of forms)
          for (const method of ["GET", "POST", "DELETE"]) {
            const answer = await rawRequest(
              port,
              requestBytes(method, form.line(target(path)), form.host, key),
              3000,
            );
            if (answer.status === 0 || (answer.status >= 200 && answer.status < 400))
              passed.push(
                `${method} ${form.line(path)} (${form.name}, key ${key ?? "none"}) → ${answer.status}`,
              );
          }
    expect(passed).toEqual([]);
    expect(await stack.redis.client().xlen(stack.key("dead"))).toBe(1);
    expect(await stack.entriesAdded()).toBe(0);
    expect(stack.ingress.exitCode).toBeNull();
  });

  test("the same odd forms with the admin key are served, so the battery above can tell", async () => {
    for (const [path, host] of [
      ["/console", "a"],
      ["http://a/console", "a"],
      ["http://evil.com:1234/console/assets/console.js", "b"],
      ["/api/admin/dead-letters/1-1", "ab"],
    ] as const) {
      const answer = await rawRequest(port, requestBytes("GET", target(path), host, adminKey));
      expect({ path, status: answer.status }).toEqual({ path, status: 200 });
    }
  });
});

describe("which keys open the console", () => {
  test("client keys only: the console is closed to everyone, and the startup log says so", async () => {
    const stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: { API_KEYS: clientKey } });
    try {
      const port = stack.ingressPort;
      expect((await rawRequest(port, requestBytes("GET", "/console", "a"))).status).toBe(401);
      expect((await rawRequest(port, requestBytes("GET", "/console", "a", clientKey))).status).toBe(403);
      expect((await rawRequest(port, requestBytes("GET", "/api/admin/events", "a", clientKey))).status).toBe(
        403,
      );
      expect(stack.ingress.output.join("\n")).toContain("console closed");
    } finally {
      await stack.stop();
    }
  });

  test("admin keys name themselves in the startup log, never with the key", async () => {
    const stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: keyedEnv });
    try {
      const started = stack.ingress.logs().find((line) => String(line.msg).includes("console protected"));
      expect(started).toMatchObject({ adminKeys: ["ops"] });
      expect(stack.ingress.output.join("\n")).not.toContain(adminKey);
    } finally {
      await stack.stop();
    }
  });
});
