import {
  connectRedis,
  connectStreams,
  createRegistry,
  healthPlugin,
  isReady,
  type Logger,
  PeriodicTask,
  type ProxyConfig,
  StreamKeys,
  StreamStats,
} from "@rsd/shared";
import { Elysia } from "elysia";
import { Consumer, readerBlockMs } from "./consumer.ts";
import { FleetHeartbeat } from "./fleet-heartbeat.ts";
import { createHandler } from "./handlers/index.ts";
import { ProxyMetrics } from "./metrics.ts";
import { ClaimKeeper } from "./recovery/claim-keeper.ts";
import { FailurePolicy } from "./recovery/failure-policy.ts";
import { Reclaimer } from "./recovery/reclaimer.ts";
import { DeadLetterTrimmer, Trimmer } from "./recovery/trimmer.ts";
import { ReplyWriter } from "./reply-writer.ts";
import { defineScripts } from "./scripts/index.ts";
import { TerminalPool } from "./terminal-pool.ts";
import { TerminalRunner } from "./terminal-runner.ts";

/**
 * The proxy's composition root. The pipeline, in file order:
 * consumer → terminal-runner (terminal-pool, handler) → reply-writer; recovery/ beside it.
 */
export function createWorker(config: ProxyConfig, logger: Logger) {
  const keys = new StreamKeys(config.streamPrefix, config.streamShards);
  const consumerName = config.podName;
  const redis = connectRedis(config, "commands", `proxy:${consumerName}:commands`, logger);
  // One blocking connection per request stream: a blocked connection holds up everything behind it.
  const readers = keys.requestStreams.map((_, shard) =>
    connectStreams(config, "blocking", `proxy:${consumerName}:reader:${shard}`, logger, {
      blockMs: readerBlockMs(keys.requestStreams.length),
    }),
  );
  // Replies and acks: the per-request writes, on the fast connection (see stream-connection.ts).
  const replies = connectStreams(config, "commands", `proxy:${consumerName}:replies`, logger, {
    commands: redis,
  });
  defineScripts(redis);

  const registry = createRegistry();
  const pool = new TerminalPool(config.terminals);
  const handler = createHandler(config, logger);
  const metrics = new ProxyMetrics(
    registry,
    config.terminals,
    () => pool.busyCount,
    (): number => runner.maxConcurrent,
  );
  const writer = new ReplyWriter({
    connection: replies,
    keys,
    logger,
    cluster: config.redisClusterNodes.length > 0,
    failures: metrics.replyWriteFailures,
    deadLetterMaxCount: config.deadLetterMaxCount,
  });
  const policy = new FailurePolicy(redis, keys, consumerName, config.maxDeliveries, writer, metrics, logger);
  const runner = new TerminalRunner(pool, handler, writer, policy, metrics, consumerName, logger);
  const reclaimer = new Reclaimer(
    redis,
    keys,
    consumerName,
    config.claimIdleMs,
    policy,
    writer,
    metrics,
    logger,
  );
  const consumer = new Consumer(
    {
      commands: redis,
      keys,
      name: consumerName,
      pool,
      runner,
      reclaimer,
      logger,
      unwritten: () => writer.backlog,
    },
    readers,
  );
  const claims = new ClaimKeeper({
    commands: redis,
    fallback: replies,
    keys,
    consumer: consumerName,
    claimIdleMs: config.claimIdleMs,
    logger,
    held: () => [...runner.running.values(), ...policy.waiting, ...writer.held],
  });
  const stats = new StreamStats(redis, keys, registry);
  const trimmer = new Trimmer(redis, keys);
  const deadLetters = new DeadLetterTrimmer(redis, keys, config.deadLetterMaxAgeS);
  const heartbeat = new FleetHeartbeat(redis, keys, consumerName, () => ({
    terminals: pool.size,
    busy: pool.busyCount,
    handler: handler.name,
    processingMs: handler.nominalMs,
  }));

  const whenConnected = async (work: () => Promise<unknown>) => {
    if (isReady(redis)) await work();
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
    // Often, so each round frees little: trimming blocks Redis for every entry it frees (about
    // 3 ms for two seconds of entries at 36k req/s), and short pauses spare the latency tail.
    new PeriodicTask("trimmer", 250, () => whenConnected(() => trimmer.run()), logger),
    // The age bound needs no precision finer than seconds: a few Redis commands a second fleet-wide.
    new PeriodicTask("dead-letter trimmer", 2000, () => whenConnected(() => deadLetters.run()), logger),
    new PeriodicTask("fleet heartbeat", 2000, () => whenConnected(() => heartbeat.beat()), logger),
  ];

  let draining = false;
  const ready = () => !draining && isReady(redis) && replies.ready && consumer.healthy;
  const app = new Elysia().use(healthPlugin({ isReady: ready, registry }));

  return {
    app,
    pool,
    start() {
      consumer.start();
      for (const task of tasks) task.start();
      logger.info("proxy started", {
        consumer: consumerName,
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
      redis.disconnect();
    },
  };
}
