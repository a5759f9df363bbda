import { randomBytes } from "node:crypto";
import {
  connectRedis,
  connectStreams,
  createRegistry,
  healthPlugin,
  type IngressConfig,
  isReady,
  type Logger,
  PeriodicTask,
  StreamKeys,
  StreamStats,
} from "@rsd/shared";
import { Elysia } from "elysia";
import { openapiPlugin } from "./docs/openapi.ts";
import { fleetController } from "./fleet/index.ts";
import { forwardController } from "./forward/index.ts";
import { protectedRoutes, refuseWithoutKey } from "./http/auth-plugin.ts";
import { ConnectionTimeouts } from "./http/connection-timeouts.ts";
import { errorPlugin } from "./http/error-plugin.ts";
import { IngressMetrics } from "./metrics.ts";
import { PendingReplies } from "./replies/pending-replies.ts";
import { ReplyLoop } from "./replies/reply-loop.ts";
import { ReplyStream } from "./replies/reply-stream.ts";
import { EnqueueBatcher } from "./requests/enqueue-batcher.ts";
import { IdempotencyKeys } from "./requests/idempotency.ts";
import { requestsController } from "./requests/index.ts";
import { InflightBudget } from "./requests/inflight-budget.ts";
import { ResultStore } from "./requests/results.ts";
import { RequestService } from "./requests/service.ts";
import { submitHandler } from "./requests/submit.ts";
import { LoadShedder } from "./shedding/load-shedder.ts";
import { RedisMemory } from "./shedding/redis-memory.ts";

/** A reply stream outlives a vanished ingress by this long, then Redis drops it. */
const replyStreamTtlS = 300;

/**
 * The ingress's composition root: connections, background loops and the HTTP app, with one
 * start and one graceful stop.
 */
export function createGateway(config: IngressConfig, logger: Logger, version: string) {
  // A fresh id per process: two processes never share a reply stream, even with the same POD_NAME.
  const ingressId = `${config.podName}-${randomBytes(3).toString("hex")}`;
  const keys = new StreamKeys(config.streamPrefix, config.streamShards);
  const redis = connectRedis(config, "commands", `ingress:${ingressId}:commands`, logger);
  const streams = connectStreams(config, "commands", `ingress:${ingressId}:streams`, logger, {
    commands: redis,
  });
  const replyBlockMs = 1000;
  const replyConnection = connectStreams(config, "blocking", `ingress:${ingressId}:replies`, logger, {
    blockMs: replyBlockMs,
  });
  const registry = createRegistry();
  const metrics = new IngressMetrics(registry);
  const pending = new PendingReplies();
  const replyStream = new ReplyStream(redis, keys.replies(ingressId), replyStreamTtlS, logger);
  const replyLoop = new ReplyLoop(replyConnection, replyStream.key, pending, logger, replyBlockMs, streams);
  const stats = new StreamStats(redis, keys, registry);
  const memory = new RedisMemory(redis);
  const shedder = new LoadShedder(
    stats,
    keys,
    config.maxQueueDepth,
    config.maxRedisMemoryPercent < 100
      ? { watcher: memory, maxPercent: config.maxRedisMemoryPercent }
      : undefined,
  );
  const shutdown = new AbortController();
  // While Redis is away the loops skip their round (readiness already says so) instead of logging each failure.
  const whenConnected = async (work: () => Promise<unknown>) => {
    if (isReady(redis)) await work();
  };
  const tasks = [
    // Four times a second: each trim then frees a quarter second of replies, a short pause for Redis.
    new PeriodicTask(
      "reply stream upkeep",
      250,
      () =>
        whenConnected(async () => {
          if (await replyStream.maintain(replyLoop.position)) replyLoop.rewind();
        }),
      logger,
    ),
    // Shedding needs a fresh lag; without shedding the gauges alone do not need 10 reads a second.
    new PeriodicTask(
      "stream stats",
      shedder.enabled ? 100 : 1000,
      () => whenConnected(() => stats.refresh()),
      logger,
    ),
    // Twice a second: memory grows with what is accepted, and shedding must see it before Redis
    // refuses the writes of requests already in flight.
    new PeriodicTask("redis memory", 500, () => whenConnected(() => memory.refresh()), logger),
  ];
  // After a reconnect (Redis may have restarted empty) recreate the reply stream at once.
  redis.on("ready", () => void tasks[0]?.runNow());

  const idempotency = new IdempotencyKeys(redis, keys, config.resultTtlS);
  const service = new RequestService({
    streams,
    keys,
    enqueuer: new EnqueueBatcher(streams),
    replyStream: replyStream.key,
    pending,
    shedder,
    idempotency,
    results: new ResultStore(redis, keys, config.resultTtlS),
    metrics,
    logger,
    resultTtlS: config.resultTtlS,
    shutdown: shutdown.signal,
  });

  const connections = new ConnectionTimeouts(config.idleTimeoutS);
  const budget = new InflightBudget({
    maxRequests: config.maxInflight,
    maxBytes: config.maxInflightBytes,
    maxBodyBytes: config.maxBodyBytes,
  });
  metrics.watchBudget(budget);
  const submit = submitHandler({
    service,
    connections,
    budget,
    idempotency,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    defaultTimeoutMs: config.requestTimeoutMs,
  });
  /**
   * POST /api/requests as Bun's router serves it (see main.ts): the same auth check, handler and
   * error answers as through the Elysia app, without the framework's per-request routing and
   * context (A/B: about 2 µs, a tenth of the ingress's CPU per request; docs/architecture.md).
   */
  const submitRoute = (request: Request): Response | Promise<Response> =>
    refuseWithoutKey(request, config.apiKeyHashes) ?? submit(request);

  let draining = false;
  const ready = () => !draining && isReady(redis) && streams.ready && replyLoop.healthy;

  // normalize: false — unknown body fields are refused (400), not silently dropped: a typo such as
  // "timeoutMS" must not quietly fall back to the default deadline.
  const health = healthPlugin({ isReady: ready, registry });
  // With METRICS_PORT the operational routes live on their own port (see main.ts), not beside the API.
  const opsApp = config.metricsPort
    ? new Elysia({ handler: { standardHostname: false } }).use(health)
    : undefined;
  // Every client route is registered on protectedRoutes, so each one checks the API key itself.
  const clientRoutes = protectedRoutes(config.apiKeyHashes)
    .use(requestsController({ service, submit, maxTimeoutMs: config.maxTimeoutMs }))
    .use(fleetController(redis, keys))
    .use(
      forwardController({
        service,
        idempotency,
        connections,
        budget,
        apiKeysRequired: config.apiKeyHashes.length > 0,
        maxBodyBytes: config.maxBodyBytes,
        maxTimeoutMs: config.maxTimeoutMs,
        defaultTimeoutMs: config.requestTimeoutMs,
      }),
    );
  // standardHostname: false — the router takes the path from the first "/" after "http://", as
  // the auth check and the metrics do (http/request-target.ts). Its default assumes a host name of
  // at least four characters and, for `Host: a`, routed /xx/api/requests as /api/requests.
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(errorPlugin(logger))
    .use(openapiPlugin(version))
    .use(opsApp ? new Elysia() : health)
    .use(clientRoutes);

  return {
    app,
    submitRoute,
    connections,
    opsApp,
    ingressId,
    metrics,
    pending,
    isReady: ready,
    start() {
      pending.start();
      replyLoop.start();
      for (const task of tasks) task.start();
      logger.info("ingress started", { ingressId, replyStream: replyStream.key, port: config.port });
    },
    /** Stops taking work, waits up to the grace time for in-flight replies, answers the rest 503. */
    async drain(graceMs: number): Promise<void> {
      draining = true;
      const deadline = Date.now() + graceMs;
      while (pending.size > 0 && Date.now() < deadline) await Bun.sleep(20);
      if (pending.size > 0)
        logger.warn("grace time over, answering the rest 503", { remaining: pending.size });
      shutdown.abort();
      pending.abandonAll();
    },
    async stop(): Promise<void> {
      await Promise.all(tasks.map((task) => task.stop()));
      await replyLoop.stop();
      pending.stop();
      await replyStream.remove().catch(() => {});
      streams.close();
      redis.disconnect();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
