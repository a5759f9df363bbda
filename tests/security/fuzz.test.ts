import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import fc from "fast-check";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

/** Statuses the contract allows in the 5xx range; anything else is a bug. */
const contractFiveHundreds = new Set([502, 503, 504]);

const headerName = fc
  .stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
  .filter(
    (name) => !["content-length", "host", "transfer-encoding", "connection", "authorization"].includes(name),
  );
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/);
const deepJson = fc.integer({ min: 1, max: 120 }).map((depth) => `${"[".repeat(depth)}1${"]".repeat(depth)}`);
const validShape = fc
  .record({ payload: fc.jsonValue({ maxDepth: 6 }), timeoutMs: fc.integer({ min: 50, max: 2000 }) })
  .map((body) => JSON.stringify(body));

const body = fc.oneof(
  fc.json({ maxDepth: 4 }),
  validShape,
  deepJson.map((deep) => `{"payload":${deep}}`),
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
  // Large bodies are described by their size and built in the property, so a counterexample stays readable.
  fc.integer({ min: 1000, max: 3_000_000 }).map((size) => ({ bigPayloadOf: size })),
);

function bodyText(body: string | { bigPayloadOf: number }): string {
  return typeof body === "string" ? body : JSON.stringify({ payload: "z".repeat(body.bigPayloadOf) });
}

const path = fc.oneof(
  fc.constant("/api/requests"),
  fc.constant("/api/requests"),
  fc.webSegment().map((segment) => `/api/requests/${segment}`),
  fc.webSegment().map((segment) => `/proxy/${segment}`),
  fc.webPath(),
  fc.constantFrom(
    "/swagger",
    "/swagger/json",
    "/healthz",
    "/api/fleet",
    "/api",
    "//api/requests",
    "/api/requests?x=%zz",
  ),
);

const request = fc.record({
  method: fc.constantFrom(
    "GET",
    "POST",
    "POST",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "HEAD",
    "PROPFIND",
  ),
  path,
  headers: fc.dictionary(headerName, headerValue, { maxKeys: 8 }),
  contentType: fc.constantFrom(
    undefined,
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "application/json; charset=latin1",
    "multipart/form-data; boundary=x",
  ),
  body,
});

describe("property-based fuzzing of the HTTP surface", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      terminals: 8,
      processingMs: 1,
      ingressEnv: { MAX_BODY_BYTES: "1048576" },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("never a 5xx outside the contract, never a crash, nothing in Redis for a refused request", async () => {
    let accepted = 0;
    const entriesAdded = () => stack.entriesAdded();
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, headers, contentType, body }) => {
        const init: RequestInit = {
          method,
          headers: { ...headers, ...(contentType ? { "content-type": contentType } : {}) },
        };
        if (method !== "GET" && method !== "HEAD") init.body = bodyText(body);
        const addedBefore = await entriesAdded();
        let response: Response;
        try {
          response = await fetch(`${stack.ingress.url}${path}`, init);
        } catch (error) {
          // The client itself refused to send it (e.g. an invalid header): not the server's doing.
          if (error instanceof TypeError) return;
          throw error;
        }
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status >= 500 && !contractFiveHundreds.has(response.status)).toBe(false);
        if (method !== "HEAD" && response.status >= 400 && path.startsWith("/api")) {
          expect(() => JSON.parse(text)).not.toThrow();
        }
        // A refused request must leave no trace in Redis: nothing was added to the request stream.
        const addedAfter = await entriesAdded();
        if (response.status >= 400 && response.status < 500) expect(addedAfter).toBe(addedBefore);
        if (addedAfter > addedBefore) accepted++;
        expect(stack.ingress.exitCode).toBeNull();
      }),
      { numRuns: 250, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31), endOnFailure: true },
    );
    expect(stack.ingress.exitCode).toBeNull();
    expect(stack.proxies[0]!.exitCode).toBeNull();
    // The generators reach both sides: refusals and requests that went through the queue.
    expect(accepted).toBeGreaterThan(0);
    expect((statuses.get(400) ?? 0) + (statuses.get(404) ?? 0)).toBeGreaterThan(0);
  });
});
