import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FragileBackendProcess } from "../helpers/fragile-backend.ts";
import { rawRequest } from "../helpers/raw-http.ts";

describe("tools/fragile-backend", () => {
  let backend: FragileBackendProcess;

  beforeAll(async () => {
    backend = await FragileBackendProcess.start([
      "--knee",
      "2",
      "--error-at",
      "4",
      "--base-ms",
      "50",
      "--noise",
      "0",
    ]);
  });
  afterAll(async () => {
    await backend?.stop();
  });

  test("answers 200 up to the error threshold and 500 past it", async () => {
    const before = await backend.stats();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(backend.url, { method: "POST", body: "{}" }).then((r) => r.status),
      ),
    );
    const after = await backend.stats();
    expect(answers.filter((status) => status === 200).length).toBeGreaterThanOrEqual(1);
    expect(answers.filter((status) => status === 500).length).toBeGreaterThanOrEqual(1);
    expect(after.calls - before.calls).toBe(8);
    expect(after.byKind.error - before.byKind.error).toBe(answers.filter((status) => status === 500).length);
    expect(after.maxConcurrent).toBeGreaterThanOrEqual(5);
  });

  test("a throttle storm answers 429 with Retry-After, an outage 500, and both end", async () => {
    expect((await backend.admin("throttle", { ms: 60_000, retryAfterS: 3 })).status).toBe(200);
    const throttled = await fetch(backend.url);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("3");
    await backend.admin("throttle", { ms: 0 });
    await backend.admin("outage", { ms: 60_000 });
    // The newest window wins only while it lasts: an outage is checked first.
    expect((await fetch(backend.url)).status).toBe(500);
    await backend.admin("outage", { ms: 0 });
    expect((await fetch(backend.url)).status).toBe(200);
  });

  test("settings change at run time; the quota answers 429 + Retry-After: 1", async () => {
    const response = await backend.admin("settings", { knee: 8, quotaRps: 1, baseMs: 0 });
    expect(response.status).toBe(200);
    expect((await backend.stats()).settings.knee).toBe(8);
    // Three calls span at most two quota seconds of one call each: at least one is refused.
    const answers = await Promise.all([1, 2, 3].map(() => fetch(backend.url)));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]?.headers.get("retry-after")).toBe("1");
    await backend.admin("settings", { quotaRps: 0 });
  });

  test("hostile admin input is refused with a 4xx JSON error", async () => {
    for (const body of [{ knee: 0 }, { knee: "8" }, { nope: 1 }, { noise: 2 }]) {
      const response = await backend.admin("settings", body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: string }).error).toBeString();
    }
    expect((await backend.admin("outage", { ms: -1 })).status).toBe(400);
    expect((await backend.admin("throttle", { ms: 10, retryAfterS: 1.5 })).status).toBe(400);
    const huge = await fetch(`${backend.url}/_admin/settings`, { method: "POST", body: "x".repeat(10_000) });
    expect(huge.status).toBe(400);
    const raw = await rawRequest(
      backend.process.port,
      "POST /_admin/settings HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n[1]",
    );
    expect(raw.status).toBe(400);
    expect((await fetch(`${backend.url}/_admin/stats`, { method: "DELETE" })).status).toBe(405);
  });
});
