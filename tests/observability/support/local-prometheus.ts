import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { stringify } from "yaml";
import { freePort } from "../../helpers/ports.ts";
import { waitFor } from "../../helpers/wait.ts";

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface ActiveTarget {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapePool: string;
  scrapeUrl: string;
  health: "up" | "down" | "unknown";
  lastError: string;
}

/**
 * A real `prometheus` process on a free port with a temporary TSDB, started from a config object.
 * Always call `stop()`: it kills the process and removes the directory.
 */
export class LocalPrometheus {
  readonly output: string[] = [];

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly proc: Subprocess<"ignore", "pipe", "pipe">,
  ) {
    void this.collect(proc.stdout);
    void this.collect(proc.stderr);
  }

  static async start(config: unknown): Promise<LocalPrometheus> {
    const dir = mkdtempSync(join(tmpdir(), "rsd-prometheus-"));
    const configFile = join(dir, "prometheus.yml");
    writeFileSync(configFile, stringify(config));
    const port = await freePort();
    const proc = Bun.spawn(
      [
        "prometheus",
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
    );
    const prometheus = new LocalPrometheus(port, dir, proc);
    try {
      await waitFor(
        `prometheus on port ${port} to be ready`,
        async () => {
          if (proc.exitCode !== null) {
            throw new Error(
              `prometheus exited with ${proc.exitCode}: ${prometheus.output.slice(-5).join("\n")}`,
            );
          }
          const response = await fetch(`${prometheus.url}/-/ready`).catch(() => undefined);
          return response?.status === 200;
        },
        { timeoutMs: 20_000, intervalMs: 100 },
      );
    } catch (error) {
      await prometheus.stop();
      throw error;
    }
    return prometheus;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** An instant query; throws when Prometheus reports an error (e.g. a PromQL syntax error). */
  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success" || !body.data) throw new Error(`query ${expr} failed: ${body.error}`);
    if (body.data.resultType !== "vector")
      throw new Error(`query ${expr}: ${body.data.resultType}, not a vector`);
    return body.data.result.map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
  }

  async activeTargets(): Promise<ActiveTarget[]> {
    const response = await fetch(`${this.url}/api/v1/targets?state=active`);
    const body = (await response.json()) as { data: { activeTargets: ActiveTarget[] } };
    return body.data.activeTargets;
  }

  /**
   * The active targets once `ready` holds for them. Discovery reaches the scrape manager in
   * batches (every ~5 s), so this waits up to 30 s.
   */
  async waitForTargets(what: string, ready: (targets: ActiveTarget[]) => boolean): Promise<ActiveTarget[]> {
    return await waitFor(
      what,
      async () => {
        const active = await this.activeTargets();
        return ready(active) ? active : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null) {
      this.proc.kill("SIGTERM");
      const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
      await this.proc.exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.output.push(...decoder.decode(chunk).split("\n").filter(Boolean));
  }
}
