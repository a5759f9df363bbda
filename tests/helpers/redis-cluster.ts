import { Cluster } from "ioredis";
import { freePort } from "./ports.ts";
import { TestRedis } from "./redis-server.ts";
import { waitFor } from "./wait.ts";

/**
 * One cluster-enabled redis-server on a free port with a free bus port. Free ports are only free
 * when asked: another process (or the other port) may take one before the server binds, so a
 * start that fails is retried with new ports.
 */
async function startNode(): Promise<TestRedis> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    try {
      return await TestRedis.start({
        port,
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-port",
          String(busPort),
          "--cluster-node-timeout",
          "1000",
          "--cluster-require-full-coverage",
          "no",
        ],
      });
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * A real local Redis Cluster for tests: `size` masters (no replicas) started with
 * `--cluster-enabled yes` on free ports and joined with `redis-cli --cluster create`. A master can
 * be killed and restarted (it rejoins from its nodes.conf, empty). With
 * `cluster-require-full-coverage no`, the other masters keep serving their slots meanwhile.
 */
export class TestRedisCluster {
  private admin: Cluster | undefined;

  private constructor(readonly nodes: TestRedis[]) {}

  static async start(size = 3): Promise<TestRedisCluster> {
    const nodes: TestRedis[] = [];
    try {
      for (let index = 0; index < size; index++) nodes.push(await startNode());
      const create = Bun.spawnSync(
        [
          "redis-cli",
          "--cluster",
          "create",
          ...nodes.map((node) => `127.0.0.1:${node.port}`),
          "--cluster-yes",
        ],
        { timeout: 30_000 },
      );
      if (create.exitCode !== 0)
        throw new Error(`redis-cli --cluster create failed: ${create.stderr.toString()}`);
      const cluster = new TestRedisCluster(nodes);
      await cluster.waitHealthy();
      return cluster;
    } catch (error) {
      await Promise.all(nodes.map((node) => node.destroy()));
      throw error;
    }
  }

  /** REDIS_CLUSTER_NODES for the services. */
  get seeds(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(",");
  }

  /** A cluster client for assertions. */
  client(): Cluster {
    if (this.admin) return this.admin;
    this.admin = new Cluster(
      this.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })),
      {
        clusterRetryStrategy: () => 200,
        enableOfflineQueue: true,
        redisOptions: { maxRetriesPerRequest: 1 },
      },
    );
    this.admin.on("error", () => {});
    return this.admin;
  }

  /** The node serving `key`'s slot. */
  async nodeOf(key: string): Promise<TestRedis> {
    const slot = (await this.nodes[0]!.client().call("CLUSTER", "KEYSLOT", key)) as number;
    const ranges = (await this.nodes[0]!.client().call("CLUSTER", "SLOTS")) as [
      number,
      number,
      [string, number],
    ][];
    const owner = ranges.find(([low, high]) => slot >= low && slot <= high);
    const node = this.nodes.find((candidate) => candidate.port === owner?.[2][1]);
    if (!node) throw new Error(`no node serves slot ${slot}`);
    return node;
  }

  /** Every node reports cluster_state:ok (or, with `except`, every other node serves its slots). */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      "the Redis Cluster to be ok",
      async () => {
        for (const node of this.nodes) {
          const info = (await node.client().call("CLUSTER", "INFO")) as string;
          if (!info.includes("cluster_state:ok")) return false;
        }
        return true;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  async destroy(): Promise<void> {
    this.admin?.disconnect();
    await Promise.all(this.nodes.map((node) => node.destroy()));
  }
}
