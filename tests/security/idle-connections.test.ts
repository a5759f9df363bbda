import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { type HeldConnection, holdConnection } from "../helpers/raw-http.ts";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own
// deadline). tests/setup.ts sets the same, but bun test applies it to the first file only.
setDefaultTimeout(60_000);

const key = `idle-key-${crypto.randomUUID()}`;

/** The server must close `connection` by itself; a bound well past IDLE_TIMEOUT_S=2 (Bun's timer is coarse). */
async function closedByServer(what: string, connection: HeldConnection): Promise<void> {
  let closed = false;
  void connection.closed.then(() => {
    closed = true;
  });
  await waitFor(`the server to close ${what}`, () => closed, { timeoutMs: 15_000, intervalMs: 50 });
}

function get(path: string, headers = ""): string {
  return `GET ${path} HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`;
}

function post(body: string, headers = "", declaredLength = body.length): string {
  return `POST /api/requests HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${declaredLength}\r\n${headers}\r\n${body}`;
}

describe("slow and idle clients", () => {
  let stack: Stack;
  let port: number;
  const sockets: Socket<undefined>[] = [];
  const held: HeldConnection[] = [];
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 1,
      processingMs: 1,
      ingressEnv: { IDLE_TIMEOUT_S: "2", API_KEYS: key },
    });
    port = Number(new URL(stack.ingress.url).port);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.end();
    for (const connection of held) connection.socket.destroy();
    await stack?.stop();
  });

  const hold = async (bytes: string) => {
    const connection = await holdConnection(port, bytes);
    held.push(connection);
    return connection;
  };

  test("hundreds of idle sockets and a trickling request do not stop a normal request; idle ones are closed", async () => {
    let closed = 0;
    for (let index = 0; index < 300; index++) {
      sockets.push(
        await Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data() {},
            close() {
              closed++;
            },
          },
        }),
      );
    }
    // One client sends half a request and stops.
    sockets[0]!.write('POST /api/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"payl');

    const response = await fetch(`${stack.ingress.url}/api/requests`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ payload: "still served" }),
    });
    expect(response.status).toBe(200);
    // IDLE_TIMEOUT_S=2: the server drops the idle connections by itself.
    await waitFor("idle connections to be closed by the server", () => closed >= 290, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });

  test("a keep-alive connection is closed once idle after a 401, a 404, a 400 and a 200 on the API", async () => {
    const auth = `Authorization: Bearer ${key}\r\n`;
    const cases = {
      "401 on /api/x": get("/api/x"),
      "404 on /api/x with a key": get("/api/x", auth),
      "400 (bad body) on /api/requests": post("{", auth),
      "200 on /api/requests": post('{"payload":1}', auth),
      "401 on /proxy/x": get("/proxy/x"),
      "a healthz answer (the reference)": get("/healthz"),
    };
    const connections = await Promise.all(
      Object.entries(cases).map(async ([name, bytes]) => [name, await hold(bytes)] as const),
    );
    for (const [name, connection] of connections) {
      await waitFor(`an answer to ${name}`, () => /^HTTP\/1\.1 \d{3}/.test(connection.received()));
      await closedByServer(`the connection after ${name}`, connection);
    }
  });

  test("a body that stalls halfway is cut off by the idle timeout, with and without a key", async () => {
    const withKey = await hold(post('{"payl', `Authorization: Bearer ${key}\r\n`, 100));
    const withoutKey = await hold(post('{"payl', "", 100));
    await closedByServer("a stalled body with a key", withKey);
    await closedByServer("a stalled body without a key", withoutKey);
  });

  test("a request waiting for its reply longer than the idle timeout is answered, then the connection idles out", async () => {
    const body = JSON.stringify({ payload: { simulate: { ms: 5000 } }, timeoutMs: 20_000 });
    const waiting = await hold(post(body, `Authorization: Bearer ${key}\r\n`));
    await waitFor("the slow request's answer", () => waiting.received().startsWith("HTTP/1.1 200"), {
      timeoutMs: 20_000,
      intervalMs: 50,
    });
    await closedByServer("the connection after the slow answer", waiting);
  });
});
