import { afterAll, beforeAll, describe } from "bun:test";
import { connectRedis, createLogger, type RedisClient, type RedisConfig, StreamKeys } from "@rsd/shared";
import type { Cluster, Redis } from "ioredis";
import { TestRedisCluster } from "../helpers/redis-cluster.ts";
import { TestRedis } from "../helpers/redis-server.ts";

/**
 * What every conformance suite gets: the protocol over the adapter under test, and an admin
 * ioredis client that only observes (or breaks) Redis for assertions. The two adapters below are
 * the only place that knows which Redis runs where; the suites never ask.
 */
export interface ProtocolTarget {
  /** The typed client over the adapter under test (the services' "commands" role). */
  readonly client: RedisClient;
  /** ioredis for assertions; routes by key on the cluster. */
  readonly admin: Redis | Cluster;
  /** One admin connection per master (one on a single Redis), for node-wide commands. */
  readonly masters: readonly Redis[];
  /** Request streams per deployment where the spread matters: 3 on both, so shards land on every master. */
  readonly shards: number;
  /** A fresh key set under a prefix of its own (one per test): tests never see each other's keys. */
  keys(shards?: number): StreamKeys;
  /** The master serving `key`. */
  nodeOf(key: string): Promise<Redis>;
  /** Another client over the same adapter, logged in as `user` (an ACL user the test created on every master); the test closes it. */
  connectAs(user: string, password: string): Promise<RedisClient>;
}

/** One way to reach Redis: how to start it, how to reach it through the protocol, and how to stop it. */
interface Adapter {
  name: string;
  start(): Promise<{
    config: RedisConfig;
    admin: Redis | Cluster;
    masters: Redis[];
    nodeOf(key: string): Promise<Redis>;
    destroy(): Promise<void>;
  }>;
}

const adapters: Adapter[] = [
  {
    name: "native adapter (Bun's client) on one redis-server",
    async start() {
      const redis = await TestRedis.start({ dirPrefix: "rsd-conformance-" });
      const admin = redis.client();
      return {
        config: { redisUrl: redis.url, redisTlsCaFile: undefined, redisClusterNodes: [] },
        admin,
        masters: [admin],
        nodeOf: async () => admin,
        destroy: () => redis.destroy(),
      };
    },
  },
  {
    name: "cluster adapter (ioredis) on a 3-master Redis Cluster",
    async start() {
      const cluster = await TestRedisCluster.start(3);
      const nodes = cluster.nodes.map((node) => ({ node, admin: node.client() }));
      return {
        config: {
          redisUrl: `redis://127.0.0.1:${cluster.nodes[0]!.port}`,
          redisTlsCaFile: undefined,
          redisClusterNodes: cluster.nodes.map((node) => ({ host: "127.0.0.1", port: node.port })),
        },
        admin: cluster.client(),
        masters: nodes.map(({ admin }) => admin),
        async nodeOf(key: string) {
          const owner = await cluster.nodeOf(key);
          return nodes.find(({ node }) => node === owner)!.admin;
        },
        destroy: () => cluster.destroy(),
      };
    },
  },
];

const logger = createLogger("error", "test", "conformance");

async function connect(config: RedisConfig, name: string): Promise<RedisClient> {
  const client = connectRedis(config, { role: "commands", name, logger });
  if (!(await client.waitUntilReady(15_000))) {
    client.close();
    throw new Error(`${name}: the protocol client did not connect`);
  }
  return client;
}

/** A suite of protocol tests, written once: it reads its target when its tests run. */
export type Suite = (target: () => ProtocolTarget) => void;

/**
 * Runs every suite against every adapter: each Redis (single or cluster) starts once for all the
 * suites, before the first test of its adapter, and is destroyed after the last.
 */
export function describeEachAdapter(suites: Suite[]): void {
  for (const adapter of adapters) {
    describe(adapter.name, () => {
      let target: ProtocolTarget | undefined;
      let stop: (() => Promise<void>) | undefined;
      const opened: RedisClient[] = [];
      let tests = 0;

      beforeAll(async () => {
        const started = await adapter.start();
        stop = started.destroy;
        const { config } = started;
        const client = await connect(config, "test:conformance");
        opened.push(client);
        target = {
          client,
          admin: started.admin,
          masters: started.masters,
          shards: 3,
          keys: (shards = 1) => new StreamKeys(`conf${++tests}`, shards),
          nodeOf: started.nodeOf,
          async connectAs(user, password) {
            const url = new URL(config.redisUrl);
            url.username = user;
            url.password = password;
            return await connect({ ...config, redisUrl: url.toString() }, `test:conformance:${user}`);
          },
        };
      }, 60_000);

      afterAll(async () => {
        for (const client of opened.splice(0)) client.close();
        await stop?.();
      }, 30_000);

      const current = () => {
        if (!target) throw new Error(`${adapter.name} did not start`);
        return target;
      };
      for (const suite of suites) suite(current);
    });
  }
}
