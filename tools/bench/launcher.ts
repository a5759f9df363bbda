import { freePort } from "../scaffold/free-port.ts";
import { RedisServer } from "../scaffold/redis-server.ts";
import { type LaunchOptions, ServiceProcess } from "../scaffold/service-process.ts";
import { waitUntil } from "../scaffold/wait-until.ts";

export { repoRoot } from "../scaffold/repo-root.ts";

/**
 * Starts the processes a benchmark scenario needs — private redis-servers and the real services
 * (`bun ingress/src/main.ts`, `bun proxy/src/main.ts`) — on free ports of 127.0.0.1, and stops
 * every one of them again. Built on tools/scaffold (as tests/helpers are), so the benchmark
 * depends on nothing but the services themselves.
 */
export class Launcher {
  private readonly services: ServiceProcess[] = [];
  private readonly servers: RedisServer[] = [];
  /**
   * Starts still under way. A caller that starts several at once (Promise.all) and fails on the
   * first failure calls stopAll while the others are still starting: stopAll waits for them, so a
   * process that becomes ready after the failure is stopped too, not left running.
   */
  private readonly starting = new Set<Promise<unknown>>();

  async redis(extraArgs: string[] = []): Promise<{ url: string; pid: number }> {
    const server = await this.track(
      RedisServer.start({ args: extraArgs, dirPrefix: "rsd-bench-redis-" }),
      this.servers,
    );
    return { url: server.url, pid: server.pid! };
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
    await waitUntil(
      () =>
        ports.every((port) =>
          Bun.spawnSync(["redis-cli", "-p", String(port), "cluster", "info"])
            .stdout.toString()
            .includes("cluster_state:ok"),
        ),
      { what: "the Redis Cluster to be ok", timeoutMs: 20_000 },
    );
    return { seeds: ports.map((port) => `127.0.0.1:${port}`).join(",") };
  }

  /** Starts one service and waits for `/readyz`. */
  async service(
    kind: "ingress" | "proxy",
    name: string,
    env: Record<string, string>,
    entry = `${kind}/src/main.ts`,
  ): Promise<ServiceProcess> {
    return await this.launch({
      kind,
      name,
      entry,
      env: {
        NODE_ENV: "production",
        // As the images run every service (see the Dockerfiles); the minimal pipelines get it too.
        BUN_JSC_numberOfGCMarkers: "1",
        ...env,
      },
      readyTimeoutMs: 20_000,
      // Only the tail matters (for a start-up failure message); keep memory flat during long runs.
      keepLines: 100,
    });
  }

  /** Starts any process ServiceProcess can (e.g. the fragile backend); stopAll stops it too. */
  async launch(options: LaunchOptions): Promise<ServiceProcess> {
    return await this.track(ServiceProcess.launch(options), this.services);
  }

  /** SIGTERM, then SIGKILL for anything still running after a short grace: the services, then Redis. */
  async stopAll(): Promise<void> {
    while (this.starting.size > 0) await Promise.allSettled([...this.starting]);
    await Promise.all(this.services.splice(0).map((service) => service.stop("SIGTERM", 3000)));
    await Promise.all(
      this.servers.splice(0).map(async (server) => {
        await server.stop(3000);
        await server.destroy();
      }),
    );
  }

  /** Registers what `start` yields in `into` as it settles, so stopAll never misses it. */
  private track<T>(start: Promise<T>, into: T[]): Promise<T> {
    const registered = start.then((started) => {
      into.push(started);
      return started;
    });
    this.starting.add(registered);
    const done = () => this.starting.delete(registered);
    registered.then(done, done);
    return registered;
  }
}
