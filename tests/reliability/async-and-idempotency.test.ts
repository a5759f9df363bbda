import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("async requests and idempotency keys", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  const poll = (location: string) => fetch(`${stack.ingress.url}${location}`);

  test("Prefer: respond-async → 202 with Location; polling gives 202 then 200 with the result", async () => {
    const accepted = await stack.request({ payload: { job: 1 } }, { prefer: "respond-async" });
    expect(accepted.status).toBe(202);
    expect(accepted.body).toEqual({ id: expect.any(String), status: "pending" });
    const location = accepted.headers.get("location");
    expect(location).toBe(`/api/requests/${accepted.body.id}`);
    const early = await poll(location!);
    expect(early.status).toBe(202);
    expect(await early.json()).toEqual({ id: accepted.body.id, status: "pending" });
    const done = await waitFor("the async result", async () => {
      const response = await poll(location!);
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    expect(done).toMatchObject({ id: accepted.body.id, status: "completed", result: { echo: { job: 1 } } });
  });

  test("an unknown id → 404 with a JSON error", async () => {
    const response = await poll("/api/requests/01890a5d-ac96-774b-bcce-b302099a8057");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toMatch(/unknown/);
  });

  test("a failed async request reads back as 502", async () => {
    const accepted = await stack.request(
      { payload: { simulate: { fail: true } } },
      { prefer: "respond-async" },
    );
    const failed = await waitFor("the failure to be stored", async () => {
      const response = await poll(accepted.headers.get("location")!);
      return response.status === 502 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    expect(failed).toMatchObject({ id: accepted.body.id, status: "failed" });
  });

  test("two concurrent requests with one Idempotency-Key: processed once, same id and result", async () => {
    const processedBefore = await metricValue(stack.proxies[0]!.url, "rsd_proxy_processed_total", {
      outcome: "ok",
    });
    const headers = { "idempotency-key": `order-${Date.now()}` };
    const body = { payload: { order: 42 }, timeoutMs: 10_000 };
    const [first, second] = await Promise.all([stack.request(body, headers), stack.request(body, headers)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id as string);
    expect(second.body.result).toEqual(first.body.result);
    // A third, later, also gets the stored outcome.
    const third = await stack.request(body, headers);
    expect(third.body.id).toBe(first.body.id as string);
    expect(await metricValue(stack.proxies[0]!.url, "rsd_proxy_processed_total", { outcome: "ok" })).toBe(
      processedBefore + 1,
    );
  });

  test("the same key with a different request → 422; async duplicates get the same id", async () => {
    const key = `pay-${Date.now()}`;
    const first = await stack.request(
      { payload: { amount: 1 } },
      { "idempotency-key": key, prefer: "respond-async" },
    );
    expect(first.status).toBe(202);
    const again = await stack.request(
      { payload: { amount: 1 } },
      { "idempotency-key": key, prefer: "respond-async" },
    );
    expect([200, 202]).toContain(again.status);
    expect(again.body.id).toBe(first.body.id as string);
    const conflict = await stack.request({ payload: { amount: 2 } }, { "idempotency-key": key });
    expect(conflict.status).toBe(422);
    expect(conflict.body.error).toMatch(/Idempotency-Key/);
  });

  test("a malformed Idempotency-Key → 400", async () => {
    const response = await stack.request({ payload: 1 }, { "idempotency-key": "has spaces and ü" });
    expect(response.status).toBe(400);
  });
});
