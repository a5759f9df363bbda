import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./ports.ts";
import { waitFor } from "./wait.ts";

export type ServiceKind = "ingress" | "proxy";

const repoRoot = resolve(import.meta.dir, "../..");
const entryPoints: Record<ServiceKind, string> = {
  ingress: resolve(repoRoot, "ingress/src/main.ts"),
  proxy: resolve(repoRoot, "proxy/src/main.ts"),
};

/** One JSON log line as the services write them. */
export type LogLine = Record<string, unknown> & { level?: string; msg?: string };

/**
 * A service started as a real child process (`bun <service>/src/main.ts`) with its own
 * environment. Its stdout and stderr are captured line by line for assertions.
 */
export class ServiceProcess {
  readonly output: string[] = [];
  /** Where readiness is answered (the API port unless METRICS_PORT moved it). */
  readyUrl: string;
  private readonly proc: Subprocess<"ignore", "pipe", "pipe">;

  private constructor(
    readonly kind: ServiceKind,
    readonly port: number,
    readonly env: Record<string, string>,
  ) {
    this.proc = Bun.spawn(["bun", entryPoints[kind]], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    this.readyUrl = `http://127.0.0.1:${port}/readyz`;
    void this.collect(this.proc.stdout);
    void this.collect(this.proc.stderr);
  }

  /** Starts the service and waits until `/readyz` answers 200 (unless `waitReady` is false). */
  static async start(
    kind: ServiceKind,
    env: Record<string, string>,
    {
      waitReady = true,
      timeoutMs = 15_000,
      readyUrl,
    }: { waitReady?: boolean; timeoutMs?: number; readyUrl?: string } = {},
  ): Promise<ServiceProcess> {
    const service = new ServiceProcess(kind, env.PORT ? Number(env.PORT) : await freePort(), env);
    if (readyUrl) service.readyUrl = readyUrl;
    if (waitReady) await service.waitReady(timeoutMs);
    return service;
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

  async waitReady(timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `${this.kind} on port ${this.port} to be ready`,
      async () => {
        if (this.proc.exitCode !== null) {
          throw new Error(
            `${this.kind} exited with ${this.proc.exitCode}: ${this.output.slice(-5).join("\n")}`,
          );
        }
        const response = await fetch(this.readyUrl).catch(() => undefined);
        return response?.status === 200;
      },
      { timeoutMs, intervalMs: 50 },
    );
  }

  /** Sends a signal and waits for the exit code (SIGKILL after `timeoutMs`). */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 30_000): Promise<number> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), timeoutMs);
    try {
      return await this.proc.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        this.output.push(line);
        if (process.env.RSD_TEST_ECHO) console.error(`[${this.kind}:${this.port}] ${line}`);
      }
    }
    if (buffered) this.output.push(buffered);
  }
}
