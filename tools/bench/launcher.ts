import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

/**
 * Starts the processes a benchmark scenario needs — a private redis-server and the real services
 * (`bun ingress/src/main.ts`, `bun proxy/src/main.ts`) — on free ports of 127.0.0.1, and stops
 * every one of them again. Kept in tools/ (not tests/helpers) so the benchmark depends on nothing
 * but the services themselves.
 */
export const repoRoot = resolve(import.meta.dir, "../..");

/** A free TCP port on 127.0.0.1: the kernel picks one for a throwaway listener. */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  exited: () => number | null,
) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const code = exited();
    if (code !== null) throw new Error(`${what}: the process exited with ${code}`);
    if (await probe().catch(() => false)) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

export interface Started {
  name: string;
  url: string;
  process: Subprocess;
  output: string[];
}

export class Launcher {
  private readonly started: Started[] = [];
  private readonly dirs: string[] = [];

  async redis(extraArgs: string[] = []): Promise<{ url: string; pid: number }> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), "rsd-bench-redis-"));
    this.dirs.push(dir);
    const proc = Bun.spawn(
      [
        "redis-server",
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        ...extraArgs,
      ],
      { stdout: "ignore", stderr: "pipe" },
    );
    this.started.push({ name: "redis", url: `redis://127.0.0.1:${port}`, process: proc, output: [] });
    await until(
      `redis-server on port ${port}`,
      async () => {
        // A raw PING over TCP: no client library needed to know the server answers.
        const reply = await new Promise<string>((done, fail) => {
          const socket = connect(port, "127.0.0.1");
          socket.once("error", fail);
          socket.once("data", (data: Buffer) => {
            socket.destroy();
            done(data.toString());
          });
          socket.write("PING\r\n");
        });
        return reply.startsWith("+PONG");
      },
      10_000,
      () => proc.exitCode,
    );
    return { url: `redis://127.0.0.1:${port}`, pid: proc.pid };
  }

  /**
   * A local Redis Cluster of `size` masters (no replicas): redis-servers with cluster mode on free
   * ports, joined by `redis-cli --cluster create`. Returns the seed list for REDIS_CLUSTER_NODES.
   */
  async redisCluster(size: number): Promise<{ seeds: string }> {
    const ports: number[] = [];
    for (let index = 0; index < size; index++) {
      const busPort = await freePort();
      const { url } = await this.redis([
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-port",
        String(busPort),
      ]);
      ports.push(Number(new URL(url).port));
    }
    const create = Bun.spawnSync(
      ["redis-cli", "--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-yes"],
      { timeout: 30_000 },
    );
    if (create.exitCode !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stderr}`);
    await until(
      "the Redis Cluster to be ok",
      async () =>
        ports.every((port) =>
          Bun.spawnSync(["redis-cli", "-p", String(port), "cluster", "info"])
            .stdout.toString()
            .includes("cluster_state:ok"),
        ),
      20_000,
      () => null,
    );
    return { seeds: ports.map((port) => `127.0.0.1:${port}`).join(",") };
  }

  /** Starts one service and waits for `/readyz`. */
  async service(
    kind: "ingress" | "proxy",
    name: string,
    env: Record<string, string>,
    entry = `${kind}/src/main.ts`,
  ): Promise<Started> {
    const port = await freePort();
    const proc = Bun.spawn(["bun", entry], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        NODE_ENV: "production",
        // As the images run every service (see the Dockerfiles); the minimal pipelines get it too.
        BUN_JSC_numberOfGCMarkers: "1",
        ...env,
        PORT: String(port),
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const started: Started = { name, url: `http://127.0.0.1:${port}`, process: proc, output: [] };
    this.started.push(started);
    void collect(proc.stdout, started.output);
    void collect(proc.stderr, started.output);
    try {
      await until(
        `${name} on port ${port}`,
        async () => (await fetch(`${started.url}/readyz`)).status === 200,
        20_000,
        () => proc.exitCode,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${started.output.slice(-10).join("\n")}`);
    }
    return started;
  }

  /** SIGTERM, then SIGKILL for anything still running after a short grace. */
  async stopAll(): Promise<void> {
    const running = this.started.splice(0).reverse();
    for (const s of running) if (s.process.exitCode === null) s.process.kill("SIGTERM");
    await Promise.all(
      running.map(async (s) => {
        const timer = setTimeout(() => s.process.kill("SIGKILL"), 3000);
        await s.process.exited;
        clearTimeout(timer);
      }),
    );
    for (const dir of this.dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) {
    into.push(...decoder.decode(chunk, { stream: true }).split("\n").filter(Boolean));
    // Only the tail matters (for a start-up failure message); keep memory flat during long runs.
    if (into.length > 200) into.splice(0, into.length - 100);
  }
}
