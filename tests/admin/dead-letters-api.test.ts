import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { adminKey, call, clientKey, DeadLetterStack, keyedEnv } from "./support.ts";

type Letter = { entryId: string; requestId: string; replayable: boolean; error: string; payload?: string };

describe("dead-letter API", () => {
  let dl: DeadLetterStack;
  const ids: string[] = [];
  beforeAll(async () => {
    dl = await DeadLetterStack.start(keyedEnv);
    for (const marker of ["a", "b", "c"]) ids.push(await dl.failedRequest(marker, clientKey));
  }, 60_000);
  afterAll(async () => {
    await dl?.stop();
  }, 60_000);

  const admin = (path: string, options: { method?: string; body?: unknown } = {}) =>
    call(dl.url, path, { key: adminKey, ...options });

  test("pages newest first with count and after; the payload only for one letter", async () => {
    const first = await admin("/api/admin/dead-letters?count=2");
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(3);
    const entries = first.body.entries as Letter[];
    expect(entries.map((letter) => letter.requestId)).toEqual([ids[2] as string, ids[1] as string]);
    expect(entries[0]?.replayable).toBe(true);
    expect(entries[0]?.payload).toBeUndefined();
    const second = await admin(`/api/admin/dead-letters?count=2&after=${first.body.next}`);
    expect((second.body.entries as Letter[]).map((letter) => letter.requestId)).toEqual([ids[0] as string]);
    expect(second.body.next).toBeNull();
    const one = await admin(`/api/admin/dead-letters/${entries[0]?.entryId}`);
    expect(one.status).toBe(200);
    expect(String((one.body as Letter).payload)).toContain("marker=c");
  });

  test("replay: the stored outcome goes from failed to completed once the backend is back", async () => {
    const id = ids[0] as string;
    expect((await dl.outcome(id, 502, clientKey)).status).toBe("failed");
    const letter = ((await admin("/api/admin/dead-letters?count=100")).body.entries as Letter[]).find(
      (entry) => entry.requestId === id,
    ) as Letter;
    const upstream = dl.backendUp();
    const replayed = await admin(`/api/admin/dead-letters/${letter.entryId}/replay`, { method: "POST" });
    expect(replayed.status).toBe(200);
    expect(replayed.body).toEqual({ entryId: letter.entryId, requestId: id, status: "replayed" });
    const done = await dl.outcome(id, 200, clientKey);
    expect(done.status).toBe("completed");
    expect(upstream.callsTo("/echo")).toBe(1);
    expect((await admin(`/api/admin/dead-letters/${letter.entryId}`)).status).toBe(404);
    expect((await admin(`/api/admin/dead-letters/${letter.entryId}/replay`, { method: "POST" })).status).toBe(
      404,
    );
    const log = dl.stack.ingress.output.join("\n");
    expect(log).toContain("dead letter replayed");
    expect(log).toContain('"admin":"ops"');
    expect(log).not.toContain(adminKey);
    dl.backendDown();
  });

  test("delete, then bulk replay and bulk purge by filter", async () => {
    const page = (await admin("/api/admin/dead-letters")).body.entries as Letter[];
    expect(page.length).toBe(2);
    const removed = await admin(`/api/admin/dead-letters/${page[0]?.entryId}`, { method: "DELETE" });
    expect(removed.body).toEqual({ entryId: page[0]?.entryId, status: "deleted" });
    expect((await admin(`/api/admin/dead-letters/${page[0]?.entryId}`, { method: "DELETE" })).status).toBe(
      404,
    );

    dl.backendUp();
    const none = await admin("/api/admin/dead-letters/bulk-replay", {
      method: "POST",
      body: { errorContains: "no such error text" },
    });
    expect(none.body).toMatchObject({ matched: 0, done: 0, next: null });
    const replay = await admin("/api/admin/dead-letters/bulk-replay", {
      method: "POST",
      body: { all: true, max: 10 },
    });
    expect(replay.body).toMatchObject({ scanned: 1, matched: 1, done: 1, skipped: 0, next: null });
    await dl.outcome(page[1]?.requestId as string, 200, clientKey);
    dl.backendDown();

    await dl.failedRequest("d", clientKey);
    await dl.failedRequest("e", clientKey);
    const young = await admin("/api/admin/dead-letters/bulk-purge", {
      method: "POST",
      body: { olderThanS: 3600 },
    });
    expect(young.body).toMatchObject({ matched: 0, done: 0 });
    const first = await admin("/api/admin/dead-letters/bulk-purge", {
      method: "POST",
      body: { all: true, max: 1 },
    });
    expect(first.body).toMatchObject({ matched: 1, done: 1 });
    expect(typeof first.body.next).toBe("string");
    const rest = await admin("/api/admin/dead-letters/bulk-purge", {
      method: "POST",
      body: { olderThanS: 0, after: first.body.next },
    });
    expect(rest.body).toMatchObject({ matched: 1, done: 1, next: null });
    expect((await admin("/api/admin/dead-letters")).body.total).toBe(0);
  });

  test("no key 401, a client key 403, a wrong key 401", async () => {
    for (const [method, path] of [
      ["GET", "/api/admin/dead-letters"],
      ["GET", "/api/admin/dead-letters/1-0"],
      ["POST", "/api/admin/dead-letters/1-0/replay"],
      ["DELETE", "/api/admin/dead-letters/1-0"],
      ["POST", "/api/admin/dead-letters/bulk-purge"],
      ["GET", "/api/admin/events"],
      ["GET", "/console"],
      ["GET", "/console/assets/console.js"],
    ] as const) {
      expect((await call(dl.url, path, { method })).status, `${method} ${path}`).toBe(401);
      expect((await call(dl.url, path, { method, key: clientKey })).status, `${method} ${path}`).toBe(403);
      expect((await call(dl.url, path, { method, key: "wrong-key-0123456789" })).status).toBe(401);
    }
  });

  test("every parameter is checked: 4xx JSON that says what is wrong", async () => {
    const cases: [string, string, unknown, number, string][] = [
      ["GET", "/api/admin/dead-letters?count=0", undefined, 400, "count"],
      ["GET", "/api/admin/dead-letters?count=101", undefined, 400, "count"],
      ["GET", "/api/admin/dead-letters?count=abc", undefined, 400, "count"],
      ["GET", "/api/admin/dead-letters?after=1-0;DEL", undefined, 400, "entryId"],
      ["GET", "/api/admin/dead-letters/not-an-id", undefined, 400, "entryId"],
      ["POST", "/api/admin/dead-letters/1-x/replay", undefined, 400, "entryId"],
      ["DELETE", `/api/admin/dead-letters/${"9".repeat(30)}-0`, undefined, 400, "entryId"],
      ["POST", "/api/admin/dead-letters/bulk-replay", {}, 400, "errorContains"],
      ["POST", "/api/admin/dead-letters/bulk-replay", { all: true, extra: 1 }, 400, "extra"],
      ["POST", "/api/admin/dead-letters/bulk-purge", { all: true, max: 1001 }, 400, "max"],
      ["POST", "/api/admin/dead-letters/bulk-purge", { olderThanS: -1 }, 400, "olderThanS"],
      ["POST", "/api/admin/dead-letters/bulk-purge", { errorContains: "" }, 400, "errorContains"],
      ["POST", "/api/admin/dead-letters/bulk-purge", "[1]", 400, "object"],
      ["POST", "/api/admin/dead-letters/bulk-purge", "{", 400, "JSON"],
      ["POST", "/api/admin/dead-letters/bulk-purge", { all: true, after: "x" }, 400, "after"],
      ["POST", "/api/admin/dead-letters/bulk-purge", { errorContains: "x".repeat(5000) }, 413, "4096"],
      ["GET", "/console/assets/constructor", undefined, 404, "asset"],
      ["GET", "/console/assets/__proto__", undefined, 404, "asset"],
    ];
    for (const [method, path, body, status, words] of cases) {
      const answer = await call(dl.url, path, { key: adminKey, method, body });
      expect(answer.status, `${method} ${path}`).toBe(status);
      expect(String(answer.body.error), `${method} ${path}`).toContain(words);
    }
  });

  test("every admin route is in the OpenAPI document, behind the admin key scheme", async () => {
    const doc = (await (await fetch(`${dl.url}/swagger/json`)).json()) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/admin"))
      .flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => [`${method} ${path}`, op]));
    expect(operations.map(([name]) => name).sort()).toEqual([
      "delete /api/admin/dead-letters/{entryId}",
      "get /api/admin/dead-letters",
      "get /api/admin/dead-letters/{entryId}",
      "get /api/admin/events",
      "post /api/admin/dead-letters/bulk-purge",
      "post /api/admin/dead-letters/bulk-replay",
      "post /api/admin/dead-letters/{entryId}/replay",
    ]);
    for (const [, op] of operations)
      expect((op as { security?: unknown[] }).security).toEqual([{ adminKey: [] }]);
    expect(doc.components.securitySchemes.adminKey).toMatchObject({ type: "http", scheme: "bearer" });
  });
});
