import { readFileSync } from "node:fs";
import type { Redis, Result } from "ioredis";

/**
 * The Lua scripts of the proxy (BullMQ's commands/ idea): each multi-step operation that must be
 * atomic lives in its own .lua file here, touches one key, and is called by name.
 */
const script = (name: string) => readFileSync(new URL(`./${name}.lua`, import.meta.url), "utf8");

declare module "ioredis" {
  interface RedisCommander<Context> {
    rsdRequeue(
      stream: string,
      group: string,
      consumer: string,
      originalId: string,
      ...fields: string[]
    ): Result<string | null, Context>;
    rsdTrim(stream: string, group: string, page?: number): Result<string | null, Context>;
    rsdForgetConsumers(
      stream: string,
      group: string,
      self: string,
      idleMs: number,
    ): Result<string[], Context>;
  }
}

/** Registers the scripts on a connection (loaded once, then called by SHA). */
export function defineScripts(redis: Redis): void {
  // One key each: atomic on its node, and Redis Cluster routes the call by that key.
  redis.defineCommand("rsdRequeue", { numberOfKeys: 1, lua: script("requeue") });
  redis.defineCommand("rsdTrim", { numberOfKeys: 1, lua: script("trim") });
  redis.defineCommand("rsdForgetConsumers", { numberOfKeys: 1, lua: script("forget-consumers") });
}
