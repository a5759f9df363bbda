import { readFileSync } from "node:fs";
import { RedisClient } from "bun";
import type Redis from "ioredis";
import { ReplyError } from "ioredis";
import type { CommonConfig } from "./config.ts";
import { redactUrl } from "./config-parse.ts";
import type { Logger } from "./logger.ts";
import { type ConnectionRole, connectRedis, isReady, reconnectDelay, waitUntilReady } from "./redis.ts";

/**
 * The connection the per-request commands travel on — the ingress's XADDs and reply reads, the
 * proxy's XREADGROUPs, reply XADDs and XACKs — and nothing else: scripts, claims, stats and
 * idempotency stay on ioredis (redis.ts), where they cost nothing per request.
 *
 * On one Redis it is Bun's native client: RESP encoding, parsing and auto-pipelining in native
 * code cost the ingress and the proxy about half of what ioredis's JavaScript does per command,
 * which is most of the gateway's own cost per request (docs/benchmarks.md). Bun's client has no
 * Redis Cluster support, so with REDIS_CLUSTER_NODES the same interface wraps an ioredis Cluster.
 */
export interface StreamConnection {
  /** Connected and usable now; commands sent while not ready fail at once (no offline queue). */
  readonly ready: boolean;
  /** One command; replies come back as RESP3 (maps as objects) or RESP2 (arrays): see `streamEntries`. */
  send(command: string, args: string[]): Promise<unknown>;
  /** Resolves true once ready, false when `timeoutMs` passes or `signal` aborts first. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Closes for good: commands in flight fail, and it never reconnects. */
  close(): void;
}

export type StreamEntry = [id: string, fields: string[] | null];

/**
 * The entries of an XREAD / XREADGROUP reply, by stream, whichever shape it arrives in: a map of
 * stream → entries (Bun's client, RESP3), a flat [stream, entries, stream, entries, …] list (a
 * RESP3 map through ioredis's generic `call`), or a list of [stream, entries] pairs (RESP2).
 * Fields are null for an entry deleted while it was pending.
 */
export function streamEntries(reply: unknown): [stream: string, entries: StreamEntry[]][] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) return Object.entries(reply as Record<string, StreamEntry[]>);
  if (typeof reply[0] !== "string") return reply as [string, StreamEntry[]][];
  const pairs: [string, StreamEntry[]][] = [];
  for (let index = 0; index + 1 < reply.length; index += 2)
    pairs.push([reply[index] as string, reply[index + 1] as StreamEntry[]]);
  return pairs;
}

/** An error reply from Redis (e.g. NOGROUP) as opposed to a connection that failed. */
export function isErrorReply(error: unknown): boolean {
  return (
    error instanceof ReplyError || (error as { code?: unknown } | null)?.code === "ERR_REDIS_SERVER_ERROR"
  );
}

export interface NativeConnectionOptions {
  url: string;
  tlsCaFile?: string | undefined;
  /** CLIENT SETNAME, visible in CLIENT LIST: `<service>:<pod>:<purpose>`. */
  name: string;
  logger: Logger;
  /**
   * A PING not answered after this long means a hung server: the connection is closed (failing
   * what is in flight) and opened again. On a blocking connection the PING queues behind the read,
   * so the caller adds the BLOCK time.
   */
  stallTimeoutMs?: number;
}

/** One Redis, through Bun's native client, reconnecting with backoff for as long as it is open. */
export class NativeStreamConnection implements StreamConnection {
  private readonly client: RedisClient;
  private readonly log: Logger;
  private connected = false;
  private connecting = false;
  private closed = false;
  private attempt = 0;
  private readonly waiters = new Set<() => void>();
  /** When the watchdog's PING in flight was sent (undefined: none in flight). */
  private pingSentAt: number | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;

  constructor(private readonly options: NativeConnectionOptions) {
    const { url, tlsCaFile } = options;
    const tls =
      url.startsWith("rediss:") && tlsCaFile ? { tls: { ca: readFileSync(tlsCaFile, "utf8") } } : {};
    this.client = new RedisClient(url, {
      // Reconnecting is ours (below): Bun's own gives up after maxRetries and stays down.
      autoReconnect: false,
      enableOfflineQueue: false,
      enableAutoPipelining: true,
      connectionTimeout: 2000,
      ...tls,
    });
    this.log = options.logger.child({ connection: options.name });
    this.client.onclose = (error) => {
      if (this.connected) this.log.warn("redis connection lost", { error });
      this.connected = false;
      if (!this.closed && !this.connecting) void this.connect();
    };
    // A watchdog PING rather than a timer per command: the hot path pays nothing for it.
    const stallMs = options.stallTimeoutMs ?? 2000;
    this.watchdog = setInterval(() => this.checkAlive(stallMs), Math.max(50, Math.floor(stallMs / 4)));
    this.watchdog.unref();
    void this.connect();
  }

  get ready(): boolean {
    return this.connected;
  }

  send(command: string, args: string[]): Promise<unknown> {
    return this.client.send(command, args);
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(finish);
        signal?.removeEventListener("abort", finish);
        resolve(this.connected);
      };
      const timer = setTimeout(finish, timeoutMs);
      this.waiters.add(finish);
      signal?.addEventListener("abort", finish, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.client.close();
    for (const wake of [...this.waiters]) wake();
  }

  /** One PING in flight at a time; one unanswered for longer than `stallMs` means a hung server. */
  private checkAlive(stallMs: number): void {
    if (!this.connected) return;
    const pending = this.pingSentAt;
    if (pending !== undefined) {
      if (Date.now() - pending > stallMs) {
        this.log.warn("redis stopped answering; reconnecting", { stallMs });
        this.pingSentAt = undefined;
        this.client.close(); // fails what is in flight; onclose reconnects
      }
      return;
    }
    const sentAt = Date.now();
    this.pingSentAt = sentAt;
    // Whatever the answer (an error reply is an answer too), the server is alive.
    const answered = () => {
      if (this.pingSentAt === sentAt) this.pingSentAt = undefined;
    };
    this.client.send("PING", []).then(answered, answered);
  }

  private async connect(): Promise<void> {
    this.connecting = true;
    try {
      while (!this.closed) {
        try {
          await this.client.connect();
          await this.client.send("CLIENT", ["SETNAME", this.options.name]);
          // Closed while connecting: close() ran before this connection existed, so end it here.
          if (this.closed) {
            this.client.close();
            return;
          }
          // Lost again right away: an attempt like any failed one, with its backoff.
          if (!this.client.connected) throw new Error("the connection closed while it was set up");
          this.connected = true;
          this.attempt = 0;
          this.pingSentAt = undefined;
          this.log.info("redis connected", { url: redactUrl(this.options.url) });
          for (const wake of [...this.waiters]) wake();
          return;
        } catch (error) {
          this.attempt++;
          if (this.attempt === 1) this.log.debug("redis connection error", { error });
          await Bun.sleep(reconnectDelay(this.attempt));
        }
      }
    } finally {
      this.connecting = false;
    }
  }
}

/** The Redis Cluster case: the same interface over an ioredis Cluster client, which routes by key. */
export class IoredisStreamConnection implements StreamConnection {
  constructor(
    private readonly redis: Redis,
    /** False when the client is shared (its owner disconnects it): close() then leaves it open. */
    private readonly owned = true,
  ) {}

  get ready(): boolean {
    return isReady(this.redis);
  }

  send(command: string, args: string[]): Promise<unknown> {
    return this.redis.call(command, ...args);
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return waitUntilReady(this.redis, timeoutMs, signal);
  }

  close(): void {
    if (this.owned) this.redis.disconnect();
  }
}

export interface StreamConnectionOptions {
  /** Blocking readers: how long one read may block, added to the stall timeout. */
  blockMs?: number;
  /**
   * The service's ioredis command client. On a cluster a `commands` connection shares it (one
   * Cluster client per process, not two, each with a socket per node and its own slot refreshes).
   */
  commands?: Redis;
}

/** The per-request connection for the services' configuration: native on one Redis, ioredis on a cluster. */
export function connectStreams(
  config: Pick<CommonConfig, "redisUrl" | "redisTlsCaFile" | "redisClusterNodes">,
  role: ConnectionRole,
  name: string,
  logger: Logger,
  { blockMs = 0, commands }: StreamConnectionOptions = {},
): StreamConnection {
  if (config.redisClusterNodes.length > 0) {
    if (role === "commands" && commands) return new IoredisStreamConnection(commands, false);
    return new IoredisStreamConnection(connectRedis(config, role, name, logger));
  }
  return new NativeStreamConnection({
    url: config.redisUrl,
    tlsCaFile: config.redisTlsCaFile,
    name,
    logger,
    stallTimeoutMs: 2000 + blockMs,
  });
}
