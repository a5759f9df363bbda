import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as connectTls } from "node:tls";
import type { Subprocess } from "bun";
import { freePort } from "./free-port.ts";
import { OutputTail, readLines } from "./lines.ts";
import { stopProcess } from "./stop-process.ts";
import { waitUntil } from "./wait-until.ts";

export interface RedisServerOptions {
  /** A fixed port (e.g. to build a REDIS_URL with credentials before anything starts); else a free one. */
  port?: number;
  /** Keep an append-only file so a restart brings the data back. */
  appendonly?: boolean;
  /** Extra `redis-server` arguments, e.g. ["--aclfile", path]. */
  args?: string[];
  /** Serve TLS only (plain port off) with these PEM files; clients are not asked for certificates. */
  tls?: RedisServerTls;
  /** How the temporary directory's name begins. */
  dirPrefix?: string;
  /** The redis-server executable; by default the one on PATH. */
  binary?: string;
  /** Called with every line the server writes (its log); it is kept for error messages either way. */
  onLine?: (line: string) => void;
  /** How long the server may take to answer PING. */
  startTimeoutMs?: number;
}

export interface RedisServerTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed certFile; clients trust it. */
  caFile: string;
}

/**
 * A private `redis-server` on 127.0.0.1 in a temporary directory of its own, which may be killed,
 * paused and started again (same port, same directory) to simulate outages. Signals go to its own
 * pid only. Always call `destroy()`: it also removes the directory.
 */
export class RedisServer {
  readonly dir: string;
  readonly port: number;
  protected readonly options: RedisServerOptions;
  private process: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  private readonly output = new OutputTail(50);

  /** Use `start()`; this only makes the directory. */
  constructor(options: RedisServerOptions & { port: number }) {
    this.options = options;
    this.port = options.port;
    this.dir = mkdtempSync(join(tmpdir(), options.dirPrefix ?? "rsd-redis-"));
  }

  /** Starts a server and waits until it answers PING. */
  static async start<T extends RedisServer>(
    this: new (
      options: RedisServerOptions & { port: number },
    ) => T,
    options: RedisServerOptions = {},
  ): Promise<T> {
    // A port that was free when asked may be taken before the server binds it: with a port of
    // our own choosing, try again on another one.
    const attempts = options.port === undefined ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      const server = new this({ ...options, port: options.port ?? (await freePort()) });
      try {
        await server.startProcess();
        return server;
      } catch (error) {
        // A server that never answered must not outlive its caller (nor its directory).
        await server.destroy();
        if (attempt >= attempts) throw error;
      }
    }
  }

  get url(): string {
    return `${this.options.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  /** The running server's pid (undefined while it is down). */
  get pid(): number | undefined {
    return this.process?.pid;
  }

  /** Resolves with the exit code of the server started last. */
  get exited(): Promise<number> {
    return this.process?.exited ?? Promise.resolve(0);
  }

  /** Starts the process (again, after `kill()`) and waits until it answers PING. */
  async startProcess(): Promise<void> {
    const tls = this.options.tls;
    const portArgs = tls
      ? [
          "--port",
          "0",
          "--tls-port",
          String(this.port),
          "--tls-cert-file",
          tls.certFile,
          "--tls-key-file",
          tls.keyFile,
          "--tls-ca-cert-file",
          tls.caFile,
          "--tls-auth-clients",
          "no",
        ]
      : ["--port", String(this.port)];
    const proc = Bun.spawn(
      [
        this.options.binary ?? "redis-server",
        ...portArgs,
        "--bind",
        "127.0.0.1",
        "--dir",
        this.dir,
        "--save",
        "",
        "--appendonly",
        this.options.appendonly ? "yes" : "no",
        "--appendfsync",
        "always",
        ...(this.options.args ?? []),
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    this.process = proc;
    const onLine = (line: string) => {
      this.output.push(line);
      this.options.onLine?.(line);
    };
    void readLines(proc.stdout, onLine);
    void readLines(proc.stderr, onLine);
    const ca = tls ? readFileSync(tls.caFile) : undefined;
    await waitUntil(() => answersPing(this.port, ca), {
      what: `redis-server on port ${this.port}`,
      timeoutMs: this.options.startTimeoutMs ?? 10_000,
      intervalMs: 25,
      failure: () =>
        proc.exitCode === null ? undefined : `it exited with ${proc.exitCode}:\n${this.output.last()}`,
    });
  }

  /** Kills the server abruptly (SIGKILL): nothing is saved beyond what AOF already holds. */
  async kill(): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
    this.process = undefined;
  }

  /** SIGTERM (Redis shuts down cleanly), SIGKILL if it is still running after `killAfterMs`. */
  async stop(killAfterMs = 5_000): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    this.resume();
    await stopProcess(proc, { killAfterMs });
    this.process = undefined;
  }

  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered, as on a hung host. */
  pause(): void {
    this.process?.kill("SIGSTOP");
  }

  resume(): void {
    this.process?.kill("SIGCONT");
  }

  /** Kills and starts again on the same port; without AOF the new server is empty. */
  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  /** Kills the server and removes its directory. */
  async destroy(): Promise<void> {
    this.resume();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Whether something on 127.0.0.1:`port` answers a RESP PING like a redis-server: with PONG, or
 * with an authentication error (with an ACL file the default user may be off; that still proves
 * the server is up). No client library: a raw PING over TCP, or TLS trusting `ca`.
 */
function answersPing(port: number, ca: Buffer | undefined): Promise<boolean> {
  return new Promise((done) => {
    const socket = ca ? connectTls({ host: "127.0.0.1", port, ca }) : connectTcp({ host: "127.0.0.1", port });
    const finish = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(answered);
    };
    const timer = setTimeout(() => finish(false), 2_000);
    socket.once("error", () => finish(false));
    socket.once("data", (data: Buffer) =>
      finish(/^(\+PONG|-(NOAUTH|NOPERM|WRONGPASS))/.test(data.toString())),
    );
    socket.write("PING\r\n");
  });
}
