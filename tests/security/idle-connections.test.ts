import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("slow and idle clients", () => {
  let stack: Stack;
  const sockets: Socket<undefined>[] = [];
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 1, ingressEnv: { IDLE_TIMEOUT_S: "2" } });
  }, 60_000);
  afterAll(async () => {
    for (const socket of sockets) socket.end();
    await stack?.stop();
  }, 60_000);

  test("hundreds of idle sockets and a trickling request do not stop a normal request; idle ones are closed", async () => {
    const { port } = new URL(stack.ingress.url);
    let closed = 0;
    for (let index = 0; index < 300; index++) {
      sockets.push(
        await Bun.connect({
          hostname: "127.0.0.1",
          port: Number(port),
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

    const { status, body } = await stack.request({ payload: "still served" });
    expect(status).toBe(200);
    expect(body.result).toEqual({ echo: "still served" });
    // IDLE_TIMEOUT_S=2: the server drops the idle connections by itself.
    await waitFor("idle connections to be closed by the server", () => closed >= 290, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
  });
});
