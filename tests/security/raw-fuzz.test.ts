import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { rawRequest } from "../helpers/raw-http.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const key = `fuzz-key-${crypto.randomUUID()}`;

/** Pieces a hostile client puts in a request target: prefixes, encodings, separators, hosts. */
const targetPiece = fc.constantFrom(
  "/api",
  "/api/",
  "/requests",
  "/fleet",
  "/proxy",
  "/proxy/",
  "/xx",
  "/zzzzzzzz",
  "//",
  "/./",
  "/../",
  "%2f",
  "%2F",
  "%00",
  "%61",
  "\\",
  "@evil.com:1234",
  "?",
  "#",
  ";",
  "/API",
  "/Proxy",
  "/healthz",
  "/swagger",
  `/${crypto.randomUUID()}`,
);
const target = fc.oneof(
  {
    // A real client route, with hostile pieces before or after it.
    arbitrary: fc
      .tuple(
        fc.array(targetPiece, { maxLength: 2 }),
        fc.constantFrom("/api/requests", "/api/fleet", "/proxy/x", `/api/requests/${crypto.randomUUID()}`),
        fc.array(targetPiece, { maxLength: 2 }),
      )
      .map(([before, route, after]) => `${before.join("")}${route}${after.join("")}`),
    weight: 6,
  },
  {
    arbitrary: fc.array(targetPiece, { minLength: 1, maxLength: 6 }).map((pieces) => `/${pieces.join("")}`),
    weight: 4,
  },
  {
    arbitrary: fc.array(targetPiece, { minLength: 1, maxLength: 6 }).map((pieces) => pieces.join("")),
    weight: 4,
  },
  fc
    .tuple(fc.constantFrom("http://a", "http://evil.com:1234", "http://a@b", "https://x", "*"), fc.webPath())
    .map(([origin, path]) => `${origin}${path}`),
  fc.stringMatching(/^[\x21-\x7e]{1,40}$/),
);
const host = fc.oneof(
  { arbitrary: fc.constantFrom("localhost", "a", "127.0.0.1:3000"), weight: 6 },
  fc.constant(undefined),
  fc.constantFrom("", "a", "ab", "localhost", "a@b", "a/b", "evil.com:1234", "[::1]", "127.0.0.1:1", " a "),
  fc.stringMatching(/^[\x21-\x7e]{0,20}$/),
);
const method = fc.constantFrom(
  "GET",
  "POST",
  "POST",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "FOO",
);
const version = fc.constantFrom(
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/1.x",
);
const extraHeader = fc.oneof(
  fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), fc.stringMatching(/^[\x20-\x7e]{0,40}$/)),
  fc.constantFrom<[string, string]>(
    ["Host", "second-host"],
    ["Transfer-Encoding", "chunked"],
    ["Content-Length", "5"],
    ["Content-Length", "-1"],
    ["Authorization", "Bearer not-the-key-00000000"],
    ["Authorization", `Basic ${key}`],
    ["Authorization", `Bearer ${key.slice(0, -1)}`],
    ["X-Forwarded-For", "10.0.0.1"],
    ["X-Original-URL", "/api/requests"],
    ["X-Rewrite-URL", "/api/requests"],
    ["Prefer", "respond-async"],
    ["Idempotency-Key", "k"],
  ),
);
const body = fc.oneof(
  fc.constant(""),
  fc.constant('{"payload":{"fuzz":true}}'),
  fc.json({ maxDepth: 3 }),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
);

const rawInput = fc.record({
  method,
  target,
  version,
  host,
  headers: fc.array(extraHeader, { maxLength: 6 }),
  body,
});

interface RawInput {
  method: string;
  target: string;
  version: string;
  host: string | undefined;
  headers: [string, string][];
  body: string;
}

function bytesOf(input: RawInput): string {
  const lines = [`${input.method} ${input.target} ${input.version}`];
  if (input.host !== undefined) lines.push(`Host: ${input.host}`);
  for (const [name, value] of input.headers) lines.push(`${name}: ${value}`);
  if (!input.headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name)))
    lines.push(`Content-Length: ${Buffer.byteLength(input.body, "latin1")}`);
  lines.push("Connection: close", "", input.body);
  return lines.join("\r\n");
}

describe("raw-socket fuzzing of the HTTP front, with API keys", () => {
  let stack: Stack;
  let port: number;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: { API_KEYS: key } });
    port = stack.ingressPort;
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("without the key nothing reaches Redis, bad input never gets a 5xx, and the ingress stays up", async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(rawInput, async (input) => {
        const answer = await rawRequest(port, bytesOf(input), 3_000);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        // No key was sent, so nothing was admitted: no success outside the open routes (health,
        // readiness, metrics, docs), no queue outcome, no internal error.
        const open = /healthz|readyz|metrics|swagger/.test(input.target);
        expect(answer.status >= 200 && answer.status < 300 && !open).toBe(false);
        // 505 is Bun's own answer to an unknown HTTP version, the one 5xx that names the client's error.
        expect(answer.status >= 500 && answer.status !== 505).toBe(false);
        expect(stack.ingress.exitCode).toBeNull();
      }),
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(await stack.untouched()).toBe(true);
    // The generators reach refusals of every kind: Bun's own 400s, the gateway's 400s, 401s and 404s.
    for (const status of [400, 401, 404]) expect(statuses.get(status) ?? 0).toBeGreaterThan(10);
    // And the ingress still serves a client with the key.
    const ok = await fetch(`${stack.ingress.url}/api/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
      body: '{"payload":"after the fuzz"}',
    });
    expect(ok.status).toBe(200);
  });
});
