import type { CommonConfig } from "../../config.ts";
import type { Logger } from "../../logger.ts";
import { ClusterConnection } from "./cluster-connection.ts";
import { NativeConnection } from "./native-connection.ts";
import { RedisClient } from "./redis-client.ts";

export interface ConnectOptions {
  /**
   * `commands`: shared by many callers, auto-pipelined. `blocking`: one blocking reader (XREAD /
   * XREADGROUP BLOCK), never shared, because a blocked connection holds up everything behind it.
   */
  role: "commands" | "blocking";
  /** CLIENT SETNAME, visible in CLIENT LIST: `<service>:<pod>:<purpose>`. */
  name: string;
  logger: Logger;
  /** Blocking readers: how long one read may block, added to the stall timeout. */
  blockMs?: number;
  /**
   * On a cluster a `commands` client shares this one's Cluster client (one per process, not
   * several, each with a socket per node and its own slot refreshes). Ignored on one Redis,
   * where separate connections keep per-request commands apart from background ones.
   */
  shareWith?: RedisClient;
}

export type RedisConfig = Pick<CommonConfig, "redisUrl" | "redisTlsCaFile" | "redisClusterNodes">;

/** A client for the services' configuration: Bun's native client on one Redis, ioredis on a cluster. */
export function connectRedis(config: RedisConfig, options: ConnectOptions): RedisClient {
  const { role, name, logger, blockMs = 0, shareWith } = options;
  if (config.redisClusterNodes.length > 0) {
    const shared = shareWith?.connection;
    if (role === "commands" && shared instanceof ClusterConnection) return new RedisClient(shared.share());
    return new RedisClient(
      new ClusterConnection({
        url: config.redisUrl,
        tlsCaFile: config.redisTlsCaFile,
        nodes: config.redisClusterNodes,
        blocking: role === "blocking",
        name,
        logger,
      }),
    );
  }
  return new RedisClient(
    new NativeConnection({
      url: config.redisUrl,
      tlsCaFile: config.redisTlsCaFile,
      name,
      logger,
      stallTimeoutMs: 2000 + blockMs,
    }),
  );
}
