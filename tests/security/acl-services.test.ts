/**
 * The rendered ACL loaded into a private redis-server: each service runs end to end with its own
 * user, every command it uses is allowed, and what it must not do is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { SseClient } from "../admin/sse-client.ts";
import { freePort } from "../helpers/ports.ts";
import type { ServiceProcess } from "../helpers/service-process.ts";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { attempt, isNoPerm, passwordEnv, passwords, render, type User } from "./acl.ts";
import { allowedCommands, forbiddenCommands } from "./acl-commands.ts";

describe("each service end to end with its own Redis user", () => {
  let dir: string;
  let stack: Stack;
  let port: number;
  const clients: Redis[] = [];
  const as = (user: User, password = passwords[user]) => {
    const client = new Redis({
      host: "127.0.0.1",
      port,
      username: user,
      password,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on("error", () => {});
    clients.push(client);
    return client;
  };
  let admin: Redis;
  const url = (user: User) => `redis://${user}:${passwords[user]}@127.0.0.1:${port}`;
  const allLogs = (): unknown[] => [stack.ingress, ...stack.proxies].flatMap((s: ServiceProcess) => s.logs());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rsd-acl-"));
    const aclFile = join(dir, "users.acl");
    expect(render(aclFile, passwordEnv).exitCode).toBe(0);
    port = await freePort();
    stack = await Stack.start({
      proxies: 1,
      terminals: 2,
      processingMs: 20,
      // The ACL patterns name the default prefix; this Redis is private to the test anyway.
      env: { STREAM_PREFIX: "rsd", CLAIM_IDLE_MS: "300", MAX_DELIVERIES: "2" },
      ingressEnv: { REDIS_URL: url("ingress") },
      proxyEnv: { REDIS_URL: url("proxy") },
      // DEBUG is also off by default (enable-debug-command no); on here so the ACL is what refuses it.
      redis: { port, args: ["--aclfile", aclFile, "--enable-debug-command", "yes"] },
    });
    admin = as("admin");
    await admin.connect();
  });
  afterAll(async () => {
    for (const client of clients) client.disconnect();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const poll = async (location: string, want: number) =>
    await waitFor(`${location} to answer ${want}`, async () => {
      const response = await fetch(`${stack.ingress.url}${location}`);
      return response.status === want ? ((await response.json()) as Record<string, unknown>) : undefined;
    });

  test("the services really log in as their users, and the default user is off", async () => {
    const names = (await admin.client("LIST")) as string;
    const users = new Set([...names.matchAll(/ name=(\S*) .* user=(\S+)/g)].map((m) => `${m[1]}=${m[2]}`));
    expect([...users].some((entry) => /^ingress:.*=ingress$/.test(entry))).toBe(true);
    expect([...users].some((entry) => /^proxy:.*=proxy$/.test(entry))).toBe(true);
    expect([...users].some((entry) => entry.endsWith("=default"))).toBe(false);
    const anonymous = new Redis({
      host: "127.0.0.1",
      port,
      lazyConnect: true,
      // RESP2 without a ready check: HELLO 3 / INFO before AUTH would close the connection.
      protocol: 2,
      enableReadyCheck: false,
      retryStrategy: () => null,
    });
    anonymous.on("error", () => {});
    clients.push(anonymous);
    await anonymous.connect().catch(() => {});
    expect(await attempt(anonymous, "PING")).toMatch(/NOAUTH/);
    expect(await attempt(anonymous, "AUTH", "default", "")).toMatch(/WRONGPASS/);
    expect(await attempt(anonymous, "AUTH", "ingress", "not-the-password")).toMatch(/WRONGPASS/);
    expect(await attempt(anonymous, "AUTH", "ingress", passwords.ingress)).toBe("OK");
  });

  test("a synchronous request: 200 with the result", async () => {
    const { status, body } = await stack.request({ payload: { hello: "acl" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "completed", result: { echo: { hello: "acl" } } });
  });

  test("an async request: 202, then 200 from the stored result", async () => {
    const accepted = await stack.request({ payload: { job: 1 } }, { prefer: "respond-async" });
    expect(accepted.status).toBe(202);
    const done = await poll(accepted.headers.get("location")!, 200);
    expect(done).toMatchObject({ id: accepted.body.id, status: "completed", result: { echo: { job: 1 } } });
  });

  test("an idempotent request: the duplicate gets the same id; a different body with the key is 422", async () => {
    const headers = { "idempotency-key": `acl-${Date.now()}` };
    const body = { payload: { order: 7 }, timeoutMs: 10_000 };
    const [first, second] = await Promise.all([stack.request(body, headers), stack.request(body, headers)]);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id as string);
    const conflicting = await stack.request({ payload: { order: 8 }, timeoutMs: 10_000 }, headers);
    expect(conflicting.status).toBe(422);
  });

  test("a poison request is retried through the requeue script and reaches rsd:dead: 502", async () => {
    const { status, body } = await stack.request({ payload: { simulate: { fail: true } } });
    expect(status).toBe(502);
    const dead = await admin.xrange("rsd:dead", "-", "+");
    expect(dead.some(([, fields]) => fields[fields.indexOf("id") + 1] === body.id)).toBe(true);
  });

  test("the console under the ingress's user: live figures, the dead letter listed and replayed", async () => {
    const events = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    const snapshot = await waitFor(
      "a snapshot",
      () => events.snapshots<{ redis: string; deadLetters: number }>()[0],
    );
    events.close();
    expect(snapshot).toMatchObject({ redis: "ok", deadLetters: 1 });
    const page = (await (await fetch(`${stack.ingress.url}/api/admin/dead-letters`)).json()) as {
      entries: { entryId: string; requestId: string }[];
    };
    const letter = page.entries[0]!;
    const replay = await fetch(`${stack.ingress.url}/api/admin/dead-letters/${letter.entryId}/replay`, {
      method: "POST",
    });
    expect(replay.status).toBe(200);
    // Still poison: it fails its fresh attempts and comes back as a new letter.
    await waitFor("the replayed request dead-lettered again", async () => {
      const dead = await admin.xrange("rsd:dead", "-", "+");
      return dead.length === 1 && dead[0]![0] !== letter.entryId;
    });
  });

  test("the reclaimer takes over a dead consumer's request; the trimmer empties the stream", async () => {
    // Both terminals busy: the proxy reads nothing, so the next request waits unread in the stream.
    const slow = [1, 2].map(() => stack.request({ payload: { simulate: { ms: 1500 } } }));
    await waitFor(
      "both terminals busy",
      async () => (await metricValue(stack.proxies[0]!.url, "rsd_proxy_terminals_busy")) === 2,
    );
    const accepted = await stack.request({ payload: { orphan: true } }, { prefer: "respond-async" });
    expect(accepted.status).toBe(202);
    // A consumer (with the proxy's user) reads it and dies: it stays pending until the reclaimer claims it.
    const ghost = as("proxy");
    const read = (await ghost.xreadgroup(
      "GROUP",
      "proxies",
      "ghost",
      "COUNT",
      10,
      "STREAMS",
      "rsd:requests",
      ">",
    )) as [string, [string, string[]][]][];
    expect(read[0]![1]).toHaveLength(1);
    ghost.disconnect();
    const done = await poll(accepted.headers.get("location")!, 200);
    expect(done).toMatchObject({ status: "completed", result: { echo: { orphan: true } } });
    expect((await Promise.all(slow)).map((answer) => answer.status)).toEqual([200, 200]);
    expect(
      stack.proxies[0]!.logs().some((line) => line.msg === "reclaimed request of a stopped consumer"),
    ).toBe(true);
    await waitFor(
      "the trimmer to drop every acknowledged entry",
      async () => (await admin.xlen("rsd:requests")) === 0,
      { timeoutMs: 8_000 },
    );
    expect(Number((await admin.xpending("rsd:requests", "proxies"))[0])).toBe(0);
  });

  test("no command of either service was refused: ACL LOG empty, no NOPERM in any log", async () => {
    // Give the periodic tasks (stats, reclaimer, trimmer, heartbeat, fleet) a few rounds.
    await waitFor("a fleet heartbeat", async () => Object.keys(await admin.hgetall("rsd:fleet")).length > 0);
    const fleet = await fetch(`${stack.ingress.url}/api/fleet`);
    expect(fleet.status).toBe(200);
    await Bun.sleep(2_500);
    // Refused commands, keys or channels; failed AUTHs (the test above made two) are not counted.
    const log = (await admin.call("ACL", "LOG")) as unknown[][];
    const denied = log
      .map((entry) =>
        Object.fromEntries(entry.flatMap((value, index) => (index % 2 ? [] : [[value, entry[index + 1]]]))),
      )
      .filter((entry) => entry.reason !== "auth");
    expect(denied).toEqual([]);
    expect(allLogs().filter(isNoPerm)).toEqual([]);
  });

  describe("every command the services use is allowed (ACL DRYRUN)", () => {
    for (const [user, commands] of Object.entries(allowedCommands)) {
      test(`${user}: ${commands.length} commands`, async () => {
        const answers = await Promise.all(
          commands.map(async (command) => [
            command.join(" "),
            await attempt(admin, "ACL", "DRYRUN", user, ...command),
          ]),
        );
        expect(answers.filter(([, answer]) => answer !== "OK")).toEqual([]);
      });
    }
  });

  describe("what each user must not do is refused with NOPERM", () => {
    for (const [user, commands] of Object.entries(forbiddenCommands) as [User, (string | number)[][]][]) {
      test(`${user}: ${commands.length} commands refused`, async () => {
        const client = as(user);
        await client.connect();
        const answers = await Promise.all(
          commands.map(
            async ([name, ...args]): Promise<[string, string]> => [
              [name, ...args].join(" "),
              String(await attempt(client, String(name), ...args)),
            ],
          ),
        );
        // Inside a script the refusal reads "The user executing the script can't …".
        const refused = /^NOPERM |^ERR The user executing the script can't /;
        expect(answers.filter(([, answer]) => !refused.test(answer))).toEqual([]);
        // Nothing happened: the request stream and the dead letters are still there.
        expect(await admin.exists("rsd:dead")).toBe(1);
      });
    }
  });
});
