import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { RedisClient as BunRedisClient } from "bun";
import { redactUrl } from "../../config-parse.ts";
import type { Logger } from "../../logger.ts";
import { type Command, type Connection, reconnectDelay } from "./connection.ts";
import { isErrorReply, NotSentError } from "./replies.ts";

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

/**
 * One Redis, through Bun's native client, reconnecting with backoff for as long as it is open.
 * RESP encoding, parsing and auto-pipelining in native code cost the services about half of what
 * ioredis's JavaScript does per command, which is most of the gateway's own cost per request
 * (docs/benchmarks.md).
 */
export class NativeConnection implements Connection {
  readonly cluster = false;
  private readonly client: BunRedisClient;
  private readonly log: Logger;
  private connected = false;
  private connecting = false;
  private closed = false;
  private attempt = 0;
  private readonly waiters = new Set<() => void>();
  private readonly readyListeners: (() => void)[] = [];
  /** When the watchdog's PING in flight was sent (undefined: none in flight). */
  private pingSentAt: number | undefined;
  private readonly watchdog: ReturnType<typeof setInterval>;

  constructor(private readonly options: NativeConnectionOptions) {
    const { url, tlsCaFile } = options;
    const tls =
      url.startsWith("rediss:") && tlsCaFile ? { tls: { ca: readFileSync(tlsCaFile, "utf8") } } : {};
    this.client = new BunRedisClient(url, {
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
    // Refused here, not by Bun's client, so the caller can tell "never sent" from "outcome unknown".
    if (!this.connected) return Promise.reject(new NotSentError());
    return this.client.send(command, args);
  }

  /**
   * MULTI, the commands and EXEC are sent in one synchronous run, so no other caller's command can
   * fall between them on this shared connection, and auto-pipelining puts them in one write.
   */
  async transaction(commands: Command[]): Promise<unknown[]> {
    const sent: Promise<unknown>[] = [this.client.send("MULTI", [])];
    for (const [command, args] of commands) sent.push(this.client.send(command, args));
    sent.push(this.client.send("EXEC", []));
    // Every promise is settled before judging, so none is left to reject unobserved.
    const outcomes = await Promise.allSettled(sent);
    const exec = outcomes[outcomes.length - 1] as PromiseSettledResult<unknown>;
    if (exec.status === "fulfilled") return Array.isArray(exec.value) ? exec.value : [];
    if (!isErrorReply(exec.reason)) throw exec.reason; // the connection failed
    // EXECABORT: a queued command was refused, and its own error says why.
    const refused = outcomes.find((outcome) => outcome.status === "rejected" && outcome !== exec);
    throw refused?.status === "rejected" ? refused.reason : exec.reason;
  }

  async everyMaster(command: string, args: string[]): Promise<unknown[]> {
    return [await this.client.send(command, args)];
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

  onReady(listener: () => void): void {
    this.readyListeners.push(listener);
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

  /**
   * Bun's client reports a refused TLS handshake as "Connection closed". With rediss:// one
   * handshake with node:tls, under the same trust, says why (an untrusted certificate, a wrong
   * host name), which is what an operator needs to read.
   */
  private async explain(error: unknown): Promise<unknown> {
    const { url, tlsCaFile } = this.options;
    if (!url.startsWith("rediss:")) return error;
    const { host, hostname, port } = new URL(url);
    const ca = tlsCaFile ? readFileSync(tlsCaFile, "utf8") : undefined;
    const reason = await new Promise<string | undefined>((resolve) => {
      try {
        const name = hostname.replace(/^\[|\]$/g, "");
        const socket = tlsConnect({
          host: name,
          port: Number(port || 6379),
          ...(isIP(name) ? {} : { servername: name }),
          ca,
        });
        const done = (text: string | undefined) => {
          socket.destroy();
          resolve(text);
        };
        socket.setTimeout(2000, () => done(undefined));
        socket.once("secureConnect", () => done(undefined));
        socket.once("error", (tlsError: Error) => done(tlsError.message));
      } catch {
        resolve(undefined); // the explanation is a courtesy: never let it break connecting
      }
    });
    return reason ? new Error(`TLS handshake with ${host} failed: ${reason}`) : error;
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
          for (const listener of this.readyListeners) listener();
          return;
        } catch (error) {
          this.attempt++;
          if (this.attempt === 1)
            this.log.debug("redis connection error", { error: await this.explain(error) });
          await Bun.sleep(reconnectDelay(this.attempt));
        }
      }
    } finally {
      this.connecting = false;
    }
  }
}
