import { readFileSync } from "node:fs";
import { encodeRequest, type RequestMessage, type StreamKeys } from "@rsd/shared";
import type { Redis, Result } from "ioredis";
import type { EntryRef } from "../entry-ref.ts";

const requeueScript = readFileSync(new URL("../scripts/requeue.lua", import.meta.url), "utf8");

declare module "ioredis" {
  interface RedisCommander<Context> {
    rsdRequeue(
      stream: string,
      group: string,
      consumer: string,
      originalId: string,
      ...fields: string[]
    ): Result<string | null, Context>;
  }
}

/** Registers the Lua scripts on a connection (loaded once, then called by SHA). */
export function defineScripts(redis: Redis): void {
  redis.defineCommand("rsdRequeue", { numberOfKeys: 1, lua: requeueScript });
}

/**
 * Puts a request back at the end of the queue for its next attempt (atomically with the ack of
 * the original); false when this consumer no longer holds the original.
 */
export async function requeue(
  redis: Redis,
  keys: StreamKeys,
  consumer: string,
  entry: EntryRef,
  message: RequestMessage,
): Promise<boolean> {
  const next = { ...message, attempt: message.attempt + 1 };
  // Back onto the same stream (shard): one key, so the script is atomic on Redis Cluster too.
  const id = await redis.rsdRequeue(entry.stream, keys.group, consumer, entry.id, ...encodeRequest(next));
  return id !== null;
}
