import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export interface TestRedisOptions {
  /** Keep an append-only file so a restart brings the data back. */
  appendonly?: boolean;
  /** Extra `redis-server` arguments, e.g. ["--aclfile", path]. */
  args?: string[];
  /** A fixed port (e.g. to build a REDIS_URL with credentials before the stack starts); else a free one. */
  port?: number;
  /** Serve TLS only (plain port off) with these PEM files; clients are not asked for certificates. */
  tls?: TestRedisTls;
}

export interface TestRedisTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed certFile; clients trust it. */
  caFile: string;
}

/**
 * A private `redis-server` on a free port in a temporary directory, which a test may kill and
 * restart (same port, same directory) to simulate outages. Always call `destroy()`.
 */
export class TestRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "rsd-redis-"));
  private process: Subprocess | undefined;
  private admin: Redis | undefined;

  private constructor(
    readonly port: number,
    private readonly options: TestRedisOptions,
  ) {}

  static async start(options: TestRedisOptions = {}): Promise<TestRedis> {
    // A port that was free when asked may be taken before the server binds it: with a port of
    // our own choosing, try again on another one.
    const attempts = options.port === undefined ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      const redis = new TestRedis(options.port ?? (await freePort()), options);
      try {
        await redis.startProcess();
        return redis;
      } catch (error) {
        // A server that never answered must not outlive the test (nor its directory).
        await redis.destroy();
        if (attempt >= attempts) throw error;
      }
    }
  }

  get url(): string {
    return `${this.options.tls ? "rediss" : "redis"}://127.0.0.1:${this.port}`;
  }

  /** ioredis TLS options trusting the test CA, when the server speaks TLS. */
  private tlsOptions(): { tls?: { ca: Buffer } } {
    return this.options.tls ? { tls: { ca: readFileSync(this.options.tls.caFile) } } : {};
  }

  /** A lazily created admin connection (no offline queue surprises: it reconnects on its own). */
  client(): Redis {
    this.admin ??= new Redis(this.url, { lazyConnect: false, maxRetriesPerRequest: 1, ...this.tlsOptions() });
    this.admin.on("error", () => {});
    return this.admin;
  }

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
    const args = [
      "redis-server",
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
    ];
    this.process = Bun.spawn(args, { stdout: "ignore", stderr: "pipe" });
    const probe = new Redis({
      port: this.port,
      host: "127.0.0.1",
      lazyConnect: true,
      retryStrategy: () => null,
      // With an ACL file the default user is usually off: HELLO 3 and INFO (the ready check) would
      // fail with NOAUTH and close the connection before PING could prove the server is up.
      ...(this.options.args?.includes("--aclfile") ? { protocol: 2, enableReadyCheck: false } : {}),
      ...this.tlsOptions(),
    });
    probe.on("error", () => {});
    try {
      await waitFor(`redis-server on port ${this.port}`, async () => {
        if (this.process?.exitCode !== null)
          throw new Error(`redis-server exited (${this.process?.exitCode})`);
        if (probe.status !== "ready") await probe.connect().catch(() => {});
        // With an ACL file the default user may be off: an auth error still proves the server is up.
        const answer = await probe.ping().catch((error: Error) => error.message);
        return answer === "PONG" || /NOAUTH|NOPERM|WRONGPASS/.test(answer);
      });
    } finally {
      probe.disconnect();
    }
  }

  /** Kills the server abruptly (SIGKILL): nothing is saved beyond what AOF already holds. */
  async kill(): Promise<void> {
    const proc = this.process;
    if (!proc) return;
    proc.kill("SIGKILL");
    await proc.exited;
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

  async destroy(): Promise<void> {
    this.resume();
    this.admin?.disconnect();
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
