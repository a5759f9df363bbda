import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./free-port.ts";
import { OutputTail, readLines } from "./lines.ts";
import { repoRoot } from "./repo-root.ts";
import { stopProcess } from "./stop-process.ts";
import { waitUntil } from "./wait-until.ts";

/** The two services, and the fragile backend (tools/fragile-backend) that tests and the bench run like one. */
export type ServiceKind = "ingress" | "proxy" | "fragile-backend";

/** One JSON log line as the services write them. */
export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

export interface ServiceOptions {
  kind: ServiceKind;
  /** The port it listens on (its PORT). */
  port: number;
  /** Its settings; PORT is set from `port`. */
  env: Record<string, string>;
  /** For messages; by default the kind. */
  name?: string;
  /** The entry point, relative to the repository's root; by default `<kind>/src/main.ts`. */
  entry?: string;
  /** Flags for bun before the entry point, e.g. ["--watch"]. */
  bunFlags?: string[];
  /** Arguments after the entry point (the fragile backend takes its settings there). */
  args?: string[];
  /** Start from this process's whole environment; otherwise only PATH and HOME are passed on. */
  inheritEnv?: boolean;
  /** Where readiness is answered; by default `/readyz` on its port. */
  readyUrl?: string;
  /** Called with every line it writes, stdout and stderr alike. */
  onLine?: (line: string, service: ServiceProcess) => void;
  /** Keep only about this many of the last lines in `output`; by default every line. */
  keepLines?: number;
}

export interface LaunchOptions extends Omit<ServiceOptions, "port"> {
  /** By default env.PORT, else a free port. */
  port?: number;
  /** Wait until `readyUrl` answers 200 (the default); a service not ready in time is killed. */
  waitReady?: boolean;
  readyTimeoutMs?: number;
}

/**
 * A service started as a real child process (`bun <kind>/src/main.ts`, or another entry point)
 * from the repository's root, with its own environment. Its stdout and stderr are captured line
 * by line; signals go to its own pid only.
 */
export class ServiceProcess {
  readonly kind: ServiceKind;
  readonly name: string;
  readonly port: number;
  readonly env: Record<string, string>;
  /** Where readiness is answered (the API port unless METRICS_PORT moved it). */
  readyUrl: string;
  private readonly tail: OutputTail;
  private readonly proc: Subprocess<"ignore", "pipe", "pipe">;

  /** Spawns the service without waiting for it; see `launch()`. */
  constructor(options: ServiceOptions) {
    this.kind = options.kind;
    this.name = options.name ?? options.kind;
    this.port = options.port;
    this.env = options.env;
    this.readyUrl = options.readyUrl ?? `http://127.0.0.1:${options.port}/readyz`;
    this.tail = new OutputTail(options.keepLines);
    const base = options.inheritEnv
      ? process.env
      : { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" };
    this.proc = Bun.spawn(
      [
        "bun",
        ...(options.bunFlags ?? []),
        resolve(repoRoot, options.entry ?? `${options.kind}/src/main.ts`),
        ...(options.args ?? []),
      ],
      {
        cwd: repoRoot,
        env: { ...base, ...options.env, PORT: String(options.port) },
        stdin: "ignore",
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const onLine = (line: string) => {
      this.tail.push(line);
      options.onLine?.(line, this);
    };
    void readLines(this.proc.stdout, onLine);
    void readLines(this.proc.stderr, onLine);
  }

  /** Spawns a service and, unless `waitReady` is false, waits until it is ready. */
  static async launch<T extends ServiceProcess>(
    this: new (
      options: ServiceOptions,
    ) => T,
    { port, waitReady = true, readyTimeoutMs, ...options }: LaunchOptions,
  ): Promise<T> {
    const fixed = port ?? (options.env.PORT ? Number(options.env.PORT) : undefined);
    // A port that was free when asked may be taken before the service binds it (freePort): with a
    // port of our own choosing, a start that failed on exactly that tries again on another one.
    const attempts = fixed === undefined && waitReady ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      const service = new this({ ...options, port: fixed ?? (await freePort()) });
      if (!waitReady) return service;
      try {
        await service.waitReady(readyTimeoutMs);
        return service;
      } catch (error) {
        await service.stop("SIGKILL");
        const portTaken = service.output.some((line) => line.includes("EADDRINUSE"));
        if (attempt >= attempts || !portTaken) throw error;
      }
    }
  }

  /** Every line it wrote so far (the last `keepLines` of them, when that was given). */
  get output(): string[] {
    return this.tail.lines;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  get exited(): Promise<number> {
    return this.proc.exited;
  }

  /** Parsed JSON log lines (non-JSON lines are skipped). */
  logs(): LogLine[] {
    const lines: LogLine[] = [];
    for (const line of this.output) {
      if (!line.startsWith("{")) continue;
      try {
        lines.push(JSON.parse(line) as LogLine);
      } catch {
        // a partial line; ignore
      }
    }
    return lines;
  }

  /** Waits until `readyUrl` answers 200; fails at once, with its last lines, if it exits. */
  async waitReady(timeoutMs = 15_000): Promise<void> {
    try {
      await waitUntil(
        async () =>
          (await fetch(this.readyUrl, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined))
            ?.status === 200,
        {
          what: `${this.name} on port ${this.port} to be ready`,
          timeoutMs,
          failure: () =>
            this.proc.exitCode === null ? undefined : `${this.name} exited with ${this.proc.exitCode}`,
        },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${this.tail.last()}`);
    }
  }

  /** Sends `signal` and waits for the exit code (SIGKILL after `killAfterMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", killAfterMs = 30_000): Promise<number> {
    return await stopProcess(this.proc, { signal, killAfterMs });
  }
}
