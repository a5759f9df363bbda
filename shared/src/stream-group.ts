import type Redis from "ioredis";
import type { StreamKeys } from "./keys.ts";
import { isRedisError } from "./redis.ts";

/**
 * Creates the consumer group (and the stream) if missing. From id `0`, never `$`: after Redis
 * restarted empty, requests queued before the group came back must still be read.
 */
export async function ensureGroup(redis: Redis, keys: StreamKeys, stream = keys.requests): Promise<boolean> {
  try {
    await redis.xgroup("CREATE", stream, keys.group, "0", "MKSTREAM");
    return true;
  } catch (error) {
    if (isRedisError(error, "BUSYGROUP")) return false;
    throw error;
  }
}
