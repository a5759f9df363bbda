import { encodeRequest, type RequestMessage, type StreamKeys } from "@rsd/shared";
import type { Redis } from "ioredis";
import type { EntryRef } from "../entry-ref.ts";
import "../scripts/index.ts";

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
