import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { SseClient } from "./sse-client.ts";

type Snapshot = {
  redis: string;
  fleet: { terminals: number; pods: number } | null;
  queue: { depth: number } | null;
  deadLetters: number | null;
  clients: number;
};

/** How often Redis ran `command` (INFO commandstats). */
async function calls(redis: ReturnType<Stack["redis"]["client"]>, command: string): Promise<number> {
  const info = (await redis.info("commandstats")) as string;
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

/** A client that sends the request and then never reads: its socket is paused from the start. */
async function stalledClient(port: number): Promise<Socket<undefined>> {
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data() {},
      open(opened) {
        opened.pause();
      },
    },
  });
  socket.write("GET /api/admin/events HTTP/1.1\r\nHost: a\r\n\r\n");
  return socket;
}

describe("console events (SSE): bounded, shared, stopped", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await Stack.start({
      proxies: 2,
      processingMs: 5,
      ingressEnv: {
        ADMIN_MAX_EVENT_CLIENTS: "2",
        ADMIN_EVENT_INTERVAL_MS: "100",
        ADMIN_EVENT_BUFFER_BYTES: "65536",
      },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  test("open console (no keys): snapshots match /api/fleet; a third client gets 503; the loop stops with the last client", async () => {
    expect(stack.ingress.output.join("\n")).toContain("console open");
    const first = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    expect(first.status).toBe(200);
    const fleet = (await (await fetch(`${stack.ingress.url}/api/fleet`)).json()) as { terminals: number };
    await waitFor("a snapshot with the fleet", () =>
      first.snapshots<Snapshot>().find((snapshot) => snapshot.fleet?.terminals === fleet.terminals),
    );
    expect(first.events[0]?.event).toBe("history");
    const latest = first.snapshots<Snapshot>().at(-1) as Snapshot;
    expect(latest).toMatchObject({ redis: "ok", deadLetters: 0, queue: { depth: 0 } });

    const second = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    expect(second.status).toBe(200);
    const third = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    expect(third.status).toBe(503);
    expect(String((third.body as { error: string }).error)).toContain("ADMIN_MAX_EVENT_CLIENTS");
    await waitFor("both clients counted", () => second.snapshots<Snapshot>().some((s) => s.clients === 2));

    first.close();
    second.close();
    // Nobody listens: the console's Redis reads (the heartbeats) stop, while the proxies go on beating.
    const redis = stack.redis.client();
    await waitFor(
      "the loop to notice",
      async () => {
        const before = await calls(redis, "hgetall");
        const beats = await calls(redis, "hset");
        await waitFor("two more heartbeats", async () => (await calls(redis, "hset")) >= beats + 2, {
          timeoutMs: 15_000,
        });
        return (await calls(redis, "hgetall")) === before;
      },
      { timeoutMs: 30_000 },
    );
  }, 60_000);

  test("a client that stops reading is dropped, and its place is free again", async () => {
    // Large snapshots (200 listed pods with long names) fill the socket buffers in seconds.
    const redis = stack.redis.client();
    for (let index = 0; index < 200; index++) {
      const pod = `stuffed-${index}-${"x".repeat(110)}`;
      const beat = {
        pod,
        terminals: 1,
        busy: 0,
        handler: "simulate",
        processingMs: 5,
        seenAt: Date.now() + 50_000,
      };
      await redis.hset(stack.key("fleet"), pod, JSON.stringify(beat));
    }
    const reader = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    const stalled = await stalledClient(stack.ingressPort);
    await waitFor(
      "the stalled client dropped",
      () => stack.ingress.output.some((line) => line.includes("console event stream dropped")),
      { timeoutMs: 50_000, intervalMs: 200 },
    );
    // The reading client was not dropped, and the freed place takes a new client.
    const before = reader.snapshots().length;
    await waitFor("more snapshots for the reader", () => reader.snapshots().length > before + 2);
    const next = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    expect(next.status).toBe(200);
    next.close();
    reader.close();
    stalled.end();
    await redis.del(stack.key("fleet"));
  }, 90_000);

  test("Redis away: the snapshots say so (and keep the traffic figures), then recover", async () => {
    const client = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    await stack.redis.kill();
    const away = await waitFor(
      "a snapshot with Redis unavailable",
      () => client.snapshots<Snapshot & { traffic: object }>().find((s) => s.redis === "unavailable"),
      { timeoutMs: 20_000 },
    );
    expect(away).toMatchObject({ fleet: null, queue: null, deadLetters: null });
    expect(away.traffic).toBeDefined();
    await stack.redis.startProcess();
    await waitFor("Redis ok again", () => client.snapshots<Snapshot>().at(-1)?.redis === "ok", {
      timeoutMs: 30_000,
    });
    client.close();
  }, 60_000);

  test("SIGTERM with a stream open: the stream ends and the ingress stops cleanly", async () => {
    const client = await SseClient.open(`${stack.ingress.url}/api/admin/events`);
    await waitFor("a snapshot", () => client.snapshots().length > 0);
    const code = await stack.ingress.stop("SIGTERM", 20_000);
    expect(code).toBe(0);
    await client.ended;
  }, 60_000);
});
