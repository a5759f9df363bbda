import { afterAll } from "bun:test";
import { connectRedis, createLogger, type RedisClient } from "@rsd/shared";
import { FragileBackendProcess } from "../helpers/fragile-backend.ts";
import { Stack, type StackOptions } from "../helpers/stack.ts";

/** A stack whose proxies call a real fragile backend (HANDLER=http), and the backend itself. */
export async function fragileStack(
  backendArgs: string[],
  options: StackOptions & { proxyEnv?: Record<string, string> },
): Promise<{ stack: Stack; backend: FragileBackendProcess; stop: () => Promise<void> }> {
  const backend = await FragileBackendProcess.start(backendArgs);
  let stack: Stack;
  try {
    stack = await Stack.start({
      ...options,
      proxyEnv: { HANDLER: "http", UPSTREAM_URL: backend.url, ...options.proxyEnv },
    });
  } catch (error) {
    await backend.stop();
    throw error;
  }
  return {
    stack,
    backend,
    stop: async () => {
      await stack.stop();
      await backend.stop();
    },
  };
}

/** Sends `count` requests over `connections` parallel loops; returns the statuses in arrival order. */
export async function drive(
  stack: Stack,
  { count, connections, timeoutMs }: { count: number; connections: number; timeoutMs: number },
): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < count) {
        next++;
        const answer = await stack.request({ payload: { n: next }, timeoutMs });
        statuses.push(answer.status);
      }
    }),
  );
  return statuses;
}

export function countOf(statuses: number[], status: number): number {
  return statuses.filter((value) => value === status).length;
}

/** Stop functions registered by a describe block's tests, all run in its afterAll. */
export function stopAfterAll(): (() => Promise<void>)[] {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    await Promise.all(stops.map((stop) => stop()));
  });
  return stops;
}

/** The protocol's typed client on a test Redis (to drive the protections' scripts directly). */
export function protocolClient(redis: { url: string }, name: string): RedisClient {
  return connectRedis(
    { redisUrl: redis.url, redisTlsCaFile: undefined, redisClusterNodes: [] },
    { role: "commands", name: `test:${name}`, logger: createLogger("error", "test", name) },
  );
}

/** The request stream's group lag and pending count (XINFO GROUPS). */
export async function groupCounts(stack: Stack): Promise<{ lag: number; pending: number }> {
  const groups = (await stack.redis.client().xinfo("GROUPS", stack.key("requests"))) as unknown[][];
  const group = groups[0] ?? [];
  return {
    lag: Number(group[group.indexOf("lag") + 1]),
    pending: Number(group[group.indexOf("pending") + 1]),
  };
}
