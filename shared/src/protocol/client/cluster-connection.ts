import { readFileSync } from "node:fs";
import { Cluster } from "ioredis";
import { redactUrl } from "../../config-parse.ts";
import type { Logger } from "../../logger.ts";
import { type Command, type Connection, reconnectDelay } from "./connection.ts";
import { NotSentError } from "./replies.ts";

export interface ClusterConnectionOptions {
  /** Credentials and TLS come from this URL; its host is ignored for the seed nodes. */
  url: string;
  tlsCaFile?: string | undefined;
  nodes: { host: string; port: number }[];
  /** Blocking readers (XREAD / XREADGROUP BLOCK) get no command timeout and a grace period. */
  blocking: boolean;
  /** CLIENT SETNAME on every node connection: `<service>:<pod>:<purpose>`. */
  name: string;
  logger: Logger;
}

/**
 * Redis Cluster through ioredis, which routes each command by its key (Bun's client has no Cluster
 * support). The services only use commands on one key, or keys of one slot, at a time.
 */
export class ClusterConnection implements Connection {
  readonly cluster = true;
  private readonly redis: Cluster;
  private owners = 1;

  constructor(options: ClusterConnectionOptions) {
    const { url, tlsCaFile, nodes, blocking, name, logger } = options;
    const parsed = new URL(url);
    const tls = url.startsWith("rediss:") ? { tls: tlsCaFile ? { ca: readFileSync(tlsCaFile) } : {} } : {};
    // Typed loosely: ioredis's Cluster type omits node options it still honours (the offline queue).
    const redisOptions: Record<string, unknown> = {
      connectionName: name,
      // CLIENT SETINFO is refused by least-privilege ACL users on some Redis versions.
      disableClientInfo: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // A hung server must not hang requests: plain commands time out, blocking ones get a grace period.
      commandTimeout: blocking ? undefined : 2000,
      blockingTimeout: blocking ? 30_000 : undefined,
      blockingTimeoutGrace: 2000,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...tls,
    };
    this.redis = new Cluster(nodes, {
      redisOptions,
      enableAutoPipelining: !blocking,
      enableOfflineQueue: false,
      clusterRetryStrategy: reconnectDelay,
      // A master that died: find its replacement (or its return) quickly, never wait without bound.
      retryDelayOnClusterDown: 100,
      retryDelayOnFailover: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: 2000,
      slotsRefreshInterval: 5000,
    });
    const log = logger.child({ connection: name });
    let healthy = false;
    this.redis.on("ready", () => {
      healthy = true;
      log.info("redis connected", { url: redactUrl(url) });
    });
    this.redis.on("error", (error: Error) => {
      // ioredis emits an error per failed reconnect attempt; log the transition, not every attempt.
      if (healthy) log.warn("redis connection lost", { error });
      else log.debug("redis connection error", { error });
      healthy = false;
    });
  }

  get ready(): boolean {
    return this.redis.status === "ready";
  }

  /** One more user of this client (see connect.ts): it is disconnected when the last one closes. */
  share(): this {
    this.owners++;
    return this;
  }

  send(command: string, args: string[]): Promise<unknown> {
    // As on one Redis (native-connection.ts): a command refused while down is known not to have run.
    if (!this.ready) return Promise.reject(new NotSentError());
    return this.redis.call(command, ...args);
  }

  async transaction(commands: Command[]): Promise<unknown[]> {
    try {
      const results = await this.redis
        .multi(commands.map(([command, args]) => [command.toLowerCase(), ...args]))
        .exec();
      return (results ?? []).map(([error, value]) => error ?? value);
    } catch (error) {
      // EXECABORT carries the refusals of the queued commands: the first says why.
      const previous = (error as { previousErrors?: unknown[] }).previousErrors;
      throw previous?.[0] ?? error;
    }
  }

  async everyMaster(command: string, args: string[]): Promise<unknown[]> {
    return await Promise.all(this.redis.nodes("master").map((node) => node.call(command, ...args)));
  }

  async waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.ready) return true;
    return await new Promise<boolean>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.redis.off("ready", finish);
        signal?.removeEventListener("abort", finish);
        resolve(this.ready);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.redis.on("ready", finish);
      signal?.addEventListener("abort", finish, { once: true });
    });
  }

  onReady(listener: () => void): void {
    this.redis.on("ready", listener);
  }

  close(): void {
    if (--this.owners === 0) this.redis.disconnect();
  }
}
