import { readFileSync } from "node:fs";
import Redis from "ioredis";
import {
  RedisServer,
  type RedisServerOptions,
  type RedisServerTls,
} from "../../tools/scaffold/redis-server.ts";

export type TestRedisOptions = RedisServerOptions;
export type TestRedisTls = RedisServerTls;

/**
 * A private `redis-server` on a free port in a temporary directory (tools/scaffold), which a test
 * may kill and restart (same port, same directory) to simulate outages, with an admin client for
 * assertions. Start it with `TestRedis.start(options)`; always call `destroy()`.
 */
export class TestRedis extends RedisServer {
  private admin: Redis | undefined;

  /** A lazily created admin connection (no offline queue surprises: it reconnects on its own). */
  client(): Redis {
    if (this.admin) return this.admin;
    const tls = this.options.tls ? { tls: { ca: readFileSync(this.options.tls.caFile) } } : {};
    this.admin = new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1, ...tls });
    // Once, when it is made: a listener per call piles up (MaxListenersExceededWarning).
    this.admin.on("error", () => {});
    return this.admin;
  }

  override async destroy(): Promise<void> {
    this.admin?.disconnect();
    await super.destroy();
  }
}
