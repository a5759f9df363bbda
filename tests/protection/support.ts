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
