import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { StreamKeys } from "@rsd/shared";
import { TestRedisCluster } from "../helpers/redis-cluster.ts";
import { ServiceProcess } from "../helpers/service-process.ts";
import { metricValue } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

const prefix = "cl";
const keys = new StreamKeys(prefix, 3);

describe("Redis Cluster with three sharded request streams", () => {
  let cluster: TestRedisCluster;
  let ingress: ServiceProcess;
  const proxies: ServiceProcess[] = [];
  let env: Record<string, string>;

  const startProxy = async (name: string) => {
    const proxy = await ServiceProcess.start("proxy", {
      ...env,
      POD_NAME: name,
      TERMINALS: "5",
      PROCESSING_MS: "20",
      CLAIM_IDLE_MS: "500",
    });
    proxies.push(proxy);
    return proxy;
  };

  const request = async (payload: unknown, timeoutMs = 10_000) => {
    const started = performance.now();
    const response = await fetch(`${ingress.url}/api/requests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ payload, timeoutMs }),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      ms: performance.now() - started,
    };
  };

  const entriesAdded = async (stream: string) => {
    const info = (await cluster
      .client()
      .xinfo("STREAM", stream)
      .catch(() => null)) as unknown[] | null;
    return info ? Number(info[info.indexOf("entries-added") + 1]) : 0;
  };

  beforeAll(async () => {
    cluster = await TestRedisCluster.start(3);
    env = {
      REDIS_CLUSTER_NODES: cluster.seeds,
      STREAM_PREFIX: prefix,
      STREAM_SHARDS: "3",
      LOG_LEVEL: "info",
    };
    await startProxy("proxy-1");
    await startProxy("proxy-2");
    ingress = await ServiceProcess.start("ingress", env);
  }, 90_000);

  afterAll(async () => {
    await Promise.all([ingress, ...proxies].map((service) => service?.stop("SIGKILL")));
    await cluster?.destroy();
  }, 60_000);

  test("the shards spread over the masters, round trips use every shard, 2 × 5 terminals cap holds", async () => {
    const owners = await Promise.all(keys.requestStreams.map((stream) => cluster.nodeOf(stream)));
    expect(new Set(owners.map((node) => node.port)).size).toBe(3);

    const responses = await Promise.all(Array.from({ length: 300 }, (_, index) => request({ index })));
    expect(responses.filter((response) => response.status !== 200)).toEqual([]);
    for (const stream of keys.requestStreams) expect(await entriesAdded(stream)).toBeGreaterThan(0);
    const peaks = await Promise.all(
      proxies.map((proxy) => metricValue(proxy.url, "rsd_proxy_handler_concurrency_max")),
    );
    for (const peak of peaks) expect(peak).toBeLessThanOrEqual(5);
    expect(peaks.reduce((sum, peak) => sum + peak, 0)).toBeLessThanOrEqual(10);
    // Lag is reported per shard.
    const ingressMetrics = await (await fetch(`${ingress.url}/metrics`)).text();
    for (const shard of ["0", "1", "2"]) expect(ingressMetrics).toContain(`rsd_stream_lag{shard="${shard}"}`);
  });

  test("a proxy SIGKILLed mid-load loses nothing", async () => {
    let answered = 0;
    const responses = await Promise.all(
      Array.from({ length: 300 }, async (_, index) => {
        const response = await request({ kill: index }, 30_000);
        if (++answered === 60) await proxies[0]!.stop("SIGKILL");
        return response;
      }),
    );
    // On failure, name the requests and what the services said about them.
    const failed = responses.filter((response) => response.status !== 200);
    for (const { body } of failed) {
      const lines = [ingress, ...proxies].flatMap((service) =>
        service.output.filter((line) => line.includes(String(body.id))),
      );
      console.error(`not answered 200: ${JSON.stringify(body)}\n${lines.join("\n")}`);
    }
    if (failed.length > 0) {
      const lost = new Set(failed.map(({ body }) => String(body.id)));
      for (const stream of keys.requestStreams) {
        const entries = await cluster.client().xrange(stream, "-", "+");
        const here = entries.filter(([, fields]) => lost.has(fields[fields.indexOf("id") + 1] as string));
        const groups = await cluster
          .client()
          .xinfo("GROUPS", stream)
          .catch((error) => String(error));
        const consumers = await cluster
          .client()
          .xinfo("CONSUMERS", stream, "proxies")
          .catch((error) => String(error));
        console.error(
          `${stream}: ${entries.length} entries, ${here.length} of the lost (first ${here[0]?.[0]}); groups ${JSON.stringify(groups)}; consumers ${JSON.stringify(consumers)}`,
        );
      }
    }
    expect(failed).toEqual([]);
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(300);
    await startProxy("proxy-3");
  });

  test("one master down: other shards keep serving, its requests fail clearly, all recover when it is back", async () => {
    const replyStream = String(ingress.logs().find((line) => line.msg === "ingress started")?.replyStream);
    const keep = new Set([(await cluster.nodeOf(replyStream)).port, (await cluster.nodeOf(keys.fleet)).port]);
    const victimShard = (
      await Promise.all(
        keys.requestStreams.map(async (stream, shard) => ({ shard, node: await cluster.nodeOf(stream) })),
      )
    ).find(({ node }) => !keep.has(node.port));
    expect(victimShard).toBeDefined();
    const victim = victimShard!.node;
    await victim.kill();

    const during = [];
    for (let round = 0; round < 6; round++) {
      during.push(
        ...(await Promise.all(Array.from({ length: 10 }, (_, index) => request({ round, index }, 3000)))),
      );
    }
    for (const answer of during) {
      expect([200, 503, 504]).toContain(answer.status);
      if (answer.status === 503) expect(String(answer.body.error)).toMatch(/unavailable|unreachable|retry/);
      if (answer.status === 504) expect(answer.body.status).toBe("timeout");
      expect(answer.ms).toBeLessThan(3000 + 2000); // bounded by its deadline: none hangs
    }
    // The other two shards keep taking requests.
    expect(during.filter((answer) => answer.status === 200).length).toBeGreaterThan(during.length / 2);

    await victim.startProcess();
    await cluster.waitHealthy();
    const victimStream = keys.requestStreams[victimShard!.shard]!;
    await waitFor(
      "the restarted shard to take requests again",
      async () => {
        const batch = await Promise.all(
          Array.from({ length: 6 }, (_, index) => request({ after: index }, 3000)),
        );
        return batch.every((answer) => answer.status === 200) && (await entriesAdded(victimStream)) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(ingress.exitCode).toBeNull();
    for (const proxy of proxies.slice(1)) expect(proxy.exitCode).toBeNull();
  });
});
