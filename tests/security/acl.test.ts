/**
 * The shipped ACL template (kustomize/base/redis/users.acl.template), rendered by the shipped
 * render-acl.sh with throwaway passwords, loaded into a private redis-server: each service runs end
 * to end with its own user, every command it uses is allowed, and what it must not do is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Redis from "ioredis";
import { freePort } from "../helpers/ports.ts";
import type { ServiceProcess } from "../helpers/service-process.ts";
import { metricValue, Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const REDIS_DIR = resolve(import.meta.dir, "../../kustomize/base/redis");
const TEMPLATE = join(REDIS_DIR, "users.acl.template");
const RENDER = join(REDIS_DIR, "render-acl.sh");
const USERS = ["admin", "ingress", "proxy", "exporter", "keda"] as const;
type User = (typeof USERS)[number];

/** Fresh random passwords per run, in the variables the template names. */
const passwords = Object.fromEntries(
  USERS.map((user) => [user, Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex")]),
) as Record<User, string>;
const passwordEnv = Object.fromEntries(
  USERS.map((user) => [`REDIS_${user.toUpperCase()}_PASSWORD`, passwords[user]]),
);

function render(output: string, env: Record<string, string>) {
  const result = Bun.spawnSync(["sh", RENDER, TEMPLATE, output], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: result.exitCode, stderr: result.stderr.toString() };
}

const isNoPerm = (line: unknown) => JSON.stringify(line).includes("NOPERM");

/** Runs a command as `user`; resolves to its reply or to the error message. */
async function attempt(client: Redis, command: string, ...args: (string | number)[]): Promise<unknown> {
  try {
    return await client.call(command, ...args);
  } catch (error) {
    return (error as Error).message;
  }
}

describe("the shipped ACL template and its renderer", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rsd-acl-render-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("renders hashes only: no clear password, no comment, no placeholder left", () => {
    const output = join(dir, "users.acl");
    const { exitCode, stderr } = render(output, passwordEnv);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    const text = readFileSync(output, "utf8");
    const lines = text.trim().split("\n");
    expect(lines.map((line) => line.split(" ")[1])).toEqual(["default", ...USERS]);
    expect(lines.every((line) => line.startsWith("user "))).toBe(true);
    expect(text).not.toContain("{{");
    for (const user of USERS) {
      expect(text).not.toContain(passwords[user]);
      const hash = new Bun.CryptoHasher("sha256").update(passwords[user]).digest("hex");
      expect(lines.find((line) => line.startsWith(`user ${user} `))).toContain(` #${hash} `);
    }
    expect(lines[0]).toMatch(/^user default off /);
  });

  test("refuses to render when a password is missing or empty, naming it", () => {
    const output = join(dir, "incomplete.acl");
    const { exitCode, stderr } = render(output, { ...passwordEnv, REDIS_PROXY_PASSWORD: "" });
    expect(exitCode).not.toBe(0);
    expect(stderr).toContain("REDIS_PROXY_PASSWORD");
    expect(existsSync(output)).toBe(false);
  });

  test("the template itself is not a loadable ACL file (a missed render cannot start Redis)", async () => {
    const port = String(await freePort());
    const result = Bun.spawnSync(["redis-server", "--port", port, "--save", "", "--aclfile", TEMPLATE], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 10_000,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout.toString() + result.stderr.toString()).toMatch(/ACL/);
  });
});

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
    const allowed: Record<"ingress" | "proxy" | "exporter" | "keda", string[][]> = {
      ingress: [
        ["PING"],
        ["INFO"],
        ["CLIENT", "SETNAME", "x"],
        ["XADD", "rsd:requests", "*", "f", "v"],
        ["XLEN", "rsd:requests"],
        ["XINFO", "GROUPS", "rsd:requests"],
        ["XINFO", "STREAM", "rsd:requests"],
        // A shard of the request stream (STREAM_SHARDS > 1) and the Cluster client's topology calls.
        ["XADD", "rsd:requests:{1.0}", "*", "f", "v"],
        ["XINFO", "GROUPS", "rsd:requests:{1.0}"],
        ["CLUSTER", "SLOTS"],
        ["CLUSTER", "INFO"],
        ["XADD", "rsd:replies:i1", "*", "created", "1"],
        ["EXPIRE", "rsd:replies:i1", "300"],
        ["XTRIM", "rsd:replies:i1", "MINID", "~", "0-1", "LIMIT", "0"],
        ["XTRIM", "rsd:replies:i1", "MAXLEN", "~", "10000", "LIMIT", "0"],
        ["XREAD", "BLOCK", "1000", "STREAMS", "rsd:replies:i1", "$"],
        ["DEL", "rsd:replies:i1"],
        ["MULTI"],
        ["EXEC"],
        ["SET", "rsd:result:r1", "x", "EX", "60"],
        ["GET", "rsd:result:r1"],
        ["DEL", "rsd:result:r1"],
        ["SET", "rsd:idem:k1", "x", "EX", "60", "NX"],
        ["GET", "rsd:idem:k1"],
        ["DEL", "rsd:idem:k1"],
        // A result too large for the reply stream.
        ["GET", "rsd:body:r1"],
        ["DEL", "rsd:body:r1"],
        ["HGETALL", "rsd:fleet"],
        ["HDEL", "rsd:fleet", "p1"],
        // BREAKER=on: the ingress reads the breaker, without a script.
        ["HGETALL", "rsd:breaker"],
        ["TIME"],
      ],
      proxy: [
        ["PING"],
        ["INFO"],
        ["CLIENT", "SETNAME", "x"],
        [
          "XREADGROUP",
          "GROUP",
          "proxies",
          "c",
          "COUNT",
          "5",
          "BLOCK",
          "1000",
          "STREAMS",
          "rsd:requests",
          ">",
        ],
        ["XACK", "rsd:requests", "proxies", "0-1"],
        ["XCLAIM", "rsd:requests", "proxies", "c", "0", "0-1", "JUSTID"],
        ["XAUTOCLAIM", "rsd:requests", "proxies", "c", "300", "0-0", "COUNT", "10"],
        ["XPENDING", "rsd:requests", "proxies"],
        ["XINFO", "GROUPS", "rsd:requests"],
        ["XINFO", "CONSUMERS", "rsd:requests", "proxies"],
        ["XINFO", "STREAM", "rsd:requests"],
        ["XLEN", "rsd:requests"],
        ["XGROUP", "CREATE", "rsd:requests", "proxies", "0", "MKSTREAM"],
        ["XGROUP", "DELCONSUMER", "rsd:requests", "proxies", "c"],
        ["XTRIM", "rsd:requests", "MINID", "0-1"],
        // The trim script deletes acknowledged entries behind a long-running one.
        ["XRANGE", "rsd:requests", "(0-1", "+", "COUNT", "10"],
        ["XDEL", "rsd:requests", "0-1"],
        ["XADD", "rsd:requests", "*", "f", "v"],
        ["XREADGROUP", "GROUP", "proxies", "c", "COUNT", "1", "STREAMS", "rsd:requests:{1.0}", ">"],
        ["XACK", "rsd:requests:{1.0}", "proxies", "0-1"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "1", "rsd:requests:{1.0}", "proxies"],
        ["CLUSTER", "SLOTS"],
        ["CLUSTER", "INFO"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "1", "rsd:requests", "proxies"],
        ["EVAL", "return 1", "1", "rsd:requests"],
        ["XADD", "rsd:replies:i1", "NOMKSTREAM", "*", "f", "v"],
        ["XADD", "rsd:dead", "MAXLEN", "~", "100000", "*", "f", "v"],
        ["XTRIM", "rsd:dead", "MINID", "1700000000000-0"],
        ["TIME"],
        ["MULTI"],
        ["EXEC"],
        ["SET", "rsd:result:r1", "x", "EX", "60"],
        ["SET", "rsd:body:r1", "x", "PX", "60000"],
        ["HSET", "rsd:fleet", "p1", "{}"],
        ["HDEL", "rsd:fleet", "p1"],
        // The backend protections: one script on one key each (gcra, pause, breaker).
        ["EVALSHA", "0123456789012345678901234567890123456789", "1", "rsd:ratelimit", "20", "1", "1"],
        ["GET", "rsd:ratelimit"],
        ["SET", "rsd:ratelimit", "1", "PX", "1000"],
        ["DEL", "rsd:ratelimit"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "1", "rsd:pause", "1000"],
        ["PTTL", "rsd:pause"],
        ["SET", "rsd:pause", "1", "PX", "1000"],
        ["EVALSHA", "0123456789012345678901234567890123456789", "1", "rsd:breaker", "read"],
        ["HGETALL", "rsd:breaker"],
        ["HSET", "rsd:breaker", "state", "0"],
        ["PEXPIRE", "rsd:breaker", "1000"],
      ],
      exporter: [
        ["PING"],
        ["INFO", "ALL"],
        ["CLIENT", "SETNAME", "redis_exporter"],
        ["SELECT", "0"],
        ["LATENCY", "LATEST"],
        ["LATENCY", "HISTOGRAM"],
        ["XINFO", "STREAM", "rsd:requests"],
        ["XINFO", "GROUPS", "rsd:dead"],
        ["XINFO", "CONSUMERS", "rsd:requests", "proxies"],
        ["XINFO", "STREAM", "rsd:requests:{1.0}"],
      ],
      // KEDA's redis-streams scaler: lagCount, pendingEntriesCount and streamLength.
      keda: [
        ["PING"],
        ["HELLO", "3"],
        ["CLIENT", "SETNAME", "keda"],
        ["XINFO", "GROUPS", "rsd:requests"],
        ["XPENDING", "rsd:requests", "proxies"],
        ["XLEN", "rsd:requests"],
        ["XINFO", "GROUPS", "rsd:requests:{1.0}"],
      ],
    };
    for (const [user, commands] of Object.entries(allowed)) {
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
    const forbidden: Record<"ingress" | "proxy" | "exporter" | "keda", (string | number)[][]> = {
      ingress: [
        ["XREADGROUP", "GROUP", "proxies", "thief", "COUNT", 1, "STREAMS", "rsd:requests", ">"],
        ["XREADGROUP", "GROUP", "proxies", "thief", "COUNT", 1, "STREAMS", "rsd:requests:{1.0}", ">"],
        ["XRANGE", "rsd:requests:{1.0}", "-", "+"],
        ["XREAD", "STREAMS", "rsd:requests", "0"],
        ["XRANGE", "rsd:requests", "-", "+"],
        ["XACK", "rsd:requests", "proxies", "0-1"],
        ["XTRIM", "rsd:requests", "MAXLEN", 0],
        ["DEL", "rsd:requests"],
        ["XRANGE", "rsd:dead", "-", "+"],
        ["FLUSHALL"],
        ["FLUSHDB"],
        ["CONFIG", "GET", "maxmemory"],
        ["CONFIG", "SET", "maxmemory", "1"],
        ["KEYS", "*"],
        ["SCAN", 0],
        ["DEBUG", "SLEEP", 0],
        ["ACL", "LIST"],
        ["EVAL", "return 1", 0],
        ["HSET", "rsd:breaker", "state", "0"],
        ["GET", "other:key"],
        ["SET", "other:key", "x"],
        ["GET", "rsd:unknown"],
        ["PUBLISH", "rsd:channel", "x"],
      ],
      proxy: [
        ["XREAD", "STREAMS", "rsd:replies:someone", "0"],
        ["XRANGE", "rsd:replies:someone", "-", "+"],
        ["GET", "rsd:result:r1"],
        ["GET", "rsd:body:r1"],
        ["GET", "rsd:idem:k1"],
        ["SET", "rsd:idem:k1", "x"],
        ["XRANGE", "rsd:dead", "-", "+"],
        ["HGETALL", "rsd:fleet"],
        ["DEL", "rsd:requests"],
        ["FLUSHALL"],
        ["DEBUG", "SLEEP", 0],
        ["CONFIG", "GET", "maxmemory"],
        ["KEYS", "*"],
        ["GET", "other:key"],
        ["SET", "other:key", "x"],
        // A script runs with the caller's permissions: no escalation through Lua.
        ["EVAL", "return redis.call('FLUSHALL')", 1, "rsd:requests"],
        ["EVAL", "return redis.call('XADD', 'other:key', '*', 'f', 'v')", 1, "rsd:requests"],
        ["EVAL", "return 1", 1, "other:key"],
      ],
      exporter: [
        ["XRANGE", "rsd:requests", "-", "+"],
        ["XADD", "rsd:requests", "*", "f", "v"],
        ["GET", "rsd:result:r1"],
        ["CONFIG", "GET", "*"],
        ["SLOWLOG", "GET", 10],
        ["KEYS", "*"],
        ["FLUSHALL"],
      ],
      // Read-only, and never a payload: no entry-returning read, no write, no other key.
      keda: [
        ["XRANGE", "rsd:requests", "-", "+"],
        ["XREAD", "STREAMS", "rsd:requests", "0"],
        ["XREADGROUP", "GROUP", "proxies", "keda", "COUNT", 1, "STREAMS", "rsd:requests", ">"],
        ["XINFO", "STREAM", "rsd:requests", "FULL"],
        ["XCLAIM", "rsd:requests", "proxies", "keda", 0, "0-1"],
        ["XADD", "rsd:requests", "*", "f", "v"],
        ["XDEL", "rsd:requests", "0-1"],
        ["XTRIM", "rsd:requests", "MAXLEN", 0],
        ["XGROUP", "DESTROY", "rsd:requests", "proxies"],
        ["DEL", "rsd:requests"],
        ["XRANGE", "rsd:dead", "-", "+"],
        ["GET", "rsd:result:r1"],
        ["XLEN", "rsd:dead"],
        ["INFO"],
        ["KEYS", "*"],
        ["FLUSHALL"],
      ],
    };
    for (const [user, commands] of Object.entries(forbidden) as [User, (string | number)[][]][]) {
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
