import {
  connectRedis,
  createRegistry,
  DeadLetters,
  FleetRegistry,
  healthPlugin,
  LaneQueue,
  type Logger,
  PeriodicTask,
  type ProxyConfig,
  RedisCompletions,
  RedisRequestQueue,
  StreamKeys,
  StreamStats,
} from "@rsd/shared";
import { Elysia } from "elysia";
import { Consumer, readerBlockMs } from "./consumer.ts";
import { FleetHeartbeat } from "./fleet-heartbeat.ts";
import { createHandler } from "./handlers/index.ts";
import { LaneReader } from "./lanes/lane-reader.ts";
import { laneStreams } from "./lanes/lane-streams.ts";
import { TenantGauges } from "./lanes/tenant-gauges.ts";
import { ProxyMetrics } from "./metrics.ts";
import { createProtection } from "./protection/index.ts";
import { ClaimKeeper } from "./recovery/claim-keeper.ts";
import { FailurePolicy } from "./recovery/failure-policy.ts";
import { Reclaimer } from "./recovery/reclaimer.ts";
import { Trimmer } from "./recovery/trimmer.ts";
import { ReplyWriter } from "./reply-writer.ts";
import { TerminalPool } from "./terminal-pool.ts";
import { TerminalRunner } from "./terminal-runner.ts";
import type { ProxyTracing } from "./tracing/index.ts";

/**
 * The proxy's composition root. The pipeline, in file order:
 * consumer → terminal-runner (terminal-pool, handler) → reply-writer; recovery/ beside it.
 */
export function createWorker(config: ProxyConfig, logger: Logger, tracing?: ProxyTracing) {
  const keys = new StreamKeys(config.streamPrefix, config.streamShards);
  const pod = config.podName;
  // Recovery, stats, trimming, heartbeats: everything but the per-request reads and writes.
  const commands = connectRedis(config, { role: "commands", name: `proxy:${pod}:commands`, logger });
  // One blocking connection per request stream: a blocked connection holds up everything behind it.
  const blockMs = readerBlockMs(keys.requestStreams.length);
  const readers = keys.requestStreams.map((_, shard) =>
    connectRedis(config, { role: "blocking", name: `proxy:${pod}:reader:${shard}`, logger, blockMs }),
  );
  // Replies and acks: the per-request writes, on a connection of their own.
  const replies = connectRedis(config, {
    role: "commands",
    name: `proxy:${pod}:replies`,
    logger,
    shareWith: commands,
  });
  const queue = new RedisRequestQueue({ client: commands, keys });
  // TENANT_LANES: the fair dispatch policy, and what iterates the lanes besides the shard streams.
  const dispatchPolicy = {
    weights: config.tenantWeights,
    maxInflight: config.tenantMaxInflight,
    agingMs: config.laneAgingMs,
  };
  const lanes = config.tenantLanes
    ? new LaneQueue({ client: commands, keys, policy: dispatchPolicy })
    : undefined;
  const streams = lanes ? laneStreams(lanes, logger) : undefined;

  const registry = createRegistry();
  const pool = new TerminalPool(config.terminals);
  const protection = createProtection({ config, pool, commands, keys, registry, logger });
  // With tracing on, each attempt and each upstream call get their spans (tracing/); off, nothing wraps.
  const handler = tracing
    ? tracing.wrap(
        createHandler(config, logger, { send: tracing.send, observer: protection.observer }),
        keys.group,
        pod,
      )
    : createHandler(config, logger, { observer: protection.observer });
  const metrics = new ProxyMetrics(
    registry,
    config.terminals,
    () => pool.busyCount,
    (): number => runner.maxConcurrent,
  );
  const writer = new ReplyWriter({
    completions: new RedisCompletions({
      client: replies,
      keys,
      deadLetterMaxCount: config.deadLetterMaxCount,
    }),
    logger,
    failures: metrics.replyWriteFailures,
  });
  const policy = new FailurePolicy({
    queue,
    pod,
    maxDeliveries: config.maxDeliveries,
    writer,
    metrics,
    logger,
    pauses: protection.pauses,
    failures: metrics.replyWriteFailures,
    urgencyOf: (stream) => keys.urgencyOf(stream),
  });
  const runner = new TerminalRunner({
    pool,
    handler,
    writer,
    policy,
    metrics,
    pod,
    logger,
    notCalled: protection.notCalled,
  });
  const reclaimer = new Reclaimer({
    queue,
    pod,
    claimIdleMs: config.claimIdleMs,
    policy,
    writer,
    metrics,
    logger,
    ...(streams ? { streams } : {}),
  });
  const consumer = new Consumer(
    { pod, pool, runner, reclaimer, logger, unwritten: () => writer.backlog, gate: protection.gate },
    readers.map((client) => new RedisRequestQueue({ client, keys })),
    lanes &&
      readers.map(
        (client, shard) =>
          new LaneReader(new LaneQueue({ client, keys, policy: dispatchPolicy }), shard, config.laneHoldMs),
      ),
  );
  const claims = new ClaimKeeper({
    queue,
    fallback: new RedisRequestQueue({ client: replies, keys }),
    pod,
    claimIdleMs: config.claimIdleMs,
    logger,
    held: () => [...runner.running.values(), ...policy.waiting, ...writer.held],
  });
  const stats = new StreamStats(queue, registry);
  const trimmer = new Trimmer(queue, streams);
  // Registered either way (the contract's series exist with lanes off too); refreshed only with lanes.
  const tenantGauges = new TenantGauges(
    lanes ?? new LaneQueue({ client: commands, keys }),
    registry,
    config.tenantMetricsMax,
  );
  const deadLetters = new DeadLetters({ client: commands, keys });
  const heartbeat = new FleetHeartbeat({
    registry: new FleetRegistry({ client: commands, keys }),
    pod,
    describe: () => ({
      terminals: pool.size,
      busy: pool.busyCount,
      handler: handler.name,
      processingMs: handler.nominalMs,
      limit: pool.limit,
    }),
  });

  const whenConnected = async (work: () => Promise<unknown>) => {
    if (commands.ready) await work();
  };
  const tasks = [
    new PeriodicTask(
      "reclaimer",
      Math.max(100, Math.floor(config.claimIdleMs / 2)),
      () => whenConnected(() => reclaimer.run()),
      logger,
    ),
    new PeriodicTask(
      "claim refresh",
      Math.max(50, Math.floor(config.claimIdleMs / 3)),
      // Not only while the command connection is up: the keeper has a second way to Redis.
      () => claims.refresh(),
      logger,
    ),
    new PeriodicTask("stream stats", 1000, () => whenConnected(() => stats.refresh()), logger),
    ...(lanes
      ? [new PeriodicTask("tenant gauges", 1000, () => whenConnected(() => tenantGauges.refresh()), logger)]
      : []),
    // Often, so each round frees little: trimming blocks Redis for every entry it frees (about
    // 3 ms for two seconds of entries at 36k req/s), and short pauses spare the latency tail.
    new PeriodicTask("trimmer", 250, () => whenConnected(() => trimmer.run()), logger),
    // The age bound needs no precision finer than seconds: a few Redis commands a second fleet-wide.
    new PeriodicTask(
      "dead-letter trimmer",
      2000,
      () => whenConnected(() => deadLetters.trimOlderThan(config.deadLetterMaxAgeS)),
      logger,
    ),
    new PeriodicTask("fleet heartbeat", 2000, () => whenConnected(() => heartbeat.beat()), logger),
    ...protection.tasks,
  ];

  let draining = false;
  const ready = () => !draining && commands.ready && replies.ready && consumer.healthy;
  const app = new Elysia().use(healthPlugin({ isReady: ready, registry }));

  return {
    app,
    pool,
    start() {
      consumer.start();
      for (const task of tasks) task.start();
      logger.info("proxy started", {
        pod,
        terminals: config.terminals,
        handler: handler.name,
        port: config.port,
      });
    },
    /**
     * Graceful stop: fail readiness, stop reading, let running terminals finish within the grace
     * time, write their replies, and leave anything unfinished pending for another pod to reclaim.
     */
    async stop(graceMs: number): Promise<void> {
      draining = true;
      const deadline = Date.now() + graceMs;
      await consumer.stop();
      const finished = await pool.whenIdle(Math.max(0, deadline - Date.now()));
      if (!finished)
        logger.warn("grace time over; unfinished requests stay pending for other proxies", {
          busy: pool.busyCount,
        });
      await policy.flush();
      await writer.drain(Math.max(1000, deadline - Date.now()));
      await Promise.all(tasks.map((task) => task.stop()));
      await heartbeat.leave().catch(() => {});
      await handler.close?.();
      for (const reader of readers) reader.close();
      replies.close();
      commands.close();
    },
  };
}
