import { randomBytes } from "node:crypto";
import {
  connectRedis,
  createRegistry,
  FleetRegistry,
  healthPlugin,
  IdempotencyStore,
  type IngressConfig,
  LaneQueue,
  type Logger,
  PeriodicTask,
  RedisRequestQueue,
  ReplyChannel,
  ResultStore,
  StreamKeys,
  StreamStats,
} from "@rsd/shared";
import { Elysia } from "elysia";
import { createConsole } from "./admin/console.ts";
import { openapiPlugin } from "./docs/openapi.ts";
import { fleetController } from "./fleet/index.ts";
import { forwardController } from "./forward/index.ts";
import { protectedRoutes, refuseWithoutKey } from "./http/auth-plugin.ts";
import { ConnectionTimeouts } from "./http/connection-timeouts.ts";
import { errorPlugin } from "./http/error-plugin.ts";
import { IngressMetrics } from "./metrics.ts";
import { PendingReplies } from "./replies/pending-replies.ts";
import { ReplyLoop } from "./replies/reply-loop.ts";
import { IdempotencyKeys } from "./requests/idempotency.ts";
import { requestsController } from "./requests/index.ts";
import { InflightBudget } from "./requests/inflight-budget.ts";
import { RequestService } from "./requests/service.ts";
import { submitHandler } from "./requests/submit.ts";
import { createAdmission } from "./shedding/create-admission.ts";
import { LoadShedder } from "./shedding/load-shedder.ts";
import { RedisMemory } from "./shedding/redis-memory.ts";
import { LaneRouter } from "./tenants/lane-router.ts";
import { TenantRequestMetrics } from "./tenants/tenant-metrics.ts";
import { TenantResolver } from "./tenants/tenant-resolver.ts";

/** A reply stream outlives a vanished ingress by this long, then Redis drops it. */
const replyStreamTtlS = 300;

/**
 * The ingress's composition root: connections, background loops and the HTTP app, with one
 * start and one graceful stop.
 */
export function createGateway(
  config: IngressConfig,
  logger: Logger,
  version: string,
  /** With tracing on: the traceparent of each /proxy/* request's server span (tracing/server-spans.ts). */
  traceOf?: (request: Request) => string,
) {
  // A fresh id per process: two processes never share a reply stream, even with the same POD_NAME.
  const ingressId = `${config.podName}-${randomBytes(3).toString("hex")}`;
  const keys = new StreamKeys(config.streamPrefix, config.streamShards);
  // Background work (stats, memory, reply stream upkeep) and the idempotency and result keys.
  const redis = connectRedis(config, { role: "commands", name: `ingress:${ingressId}:commands`, logger });
  // The per-request XADDs and large-result reads, on a connection of their own.
  const streams = connectRedis(config, {
    role: "commands",
    name: `ingress:${ingressId}:streams`,
    logger,
    shareWith: redis,
  });
  const replyBlockMs = 1000;
  const replyClient = connectRedis(config, {
    role: "blocking",
    name: `ingress:${ingressId}:replies`,
    logger,
    blockMs: replyBlockMs,
  });
  const registry = createRegistry();
  const metrics = new IngressMetrics(registry);
  const tenants = new TenantResolver(config);
  const tenantMetrics = new TenantRequestMetrics(registry, config.tenantMetricsMax, tenants.keyedTenants);
  const pending = new PendingReplies();
  const replyStream = keys.replies(ingressId);
  const channel = (client: typeof redis) =>
    new ReplyChannel({ client, stream: replyStream, ttlS: replyStreamTtlS });
  const upkeep = channel(redis);
  const replyLoop = new ReplyLoop({
    channel: channel(replyClient),
    client: replyClient,
    pending,
    logger,
    blockMs: replyBlockMs,
    bodies: new ResultStore({ client: streams, keys }),
  });
  const stats = new StreamStats(new RedisRequestQueue({ client: redis, keys }), registry);
  const memory = new RedisMemory(redis);
  const shedder = new LoadShedder(
    stats,
    keys,
    config.maxQueueDepth,
    config.maxRedisMemoryPercent < 100
      ? { watcher: memory, maxPercent: config.maxRedisMemoryPercent }
      : undefined,
  );
  // TENANT_LANES: lane enqueues go over the per-request connection, the quota poll over `redis`.
  const lanes = config.tenantLanes
    ? new LaneRouter({
        lanes: new LaneQueue({ client: streams, keys }),
        keys,
        tenantMaxQueueDepth: config.tenantMaxQueueDepth,
        maxQueueDepth: config.maxQueueDepth,
        tenantMaxActive: config.tenantMaxActive,
      })
    : undefined;
  const laneCounts = new LaneQueue({ client: redis, keys });
  const protection = createAdmission({ config, redis, keys, registry, logger, stats });
  const shutdown = new AbortController();
  // While Redis is away the loops skip their round (readiness already says so) instead of logging each failure.
  const whenConnected = async (work: () => Promise<unknown>) => {
    if (redis.ready) await work();
  };
  const tasks = [
    // Four times a second: each trim then frees a quarter second of replies, a short pause for Redis.
    new PeriodicTask(
      "reply stream upkeep",
      250,
      () =>
        whenConnected(async () => {
          if (await upkeep.maintain(replyLoop.position)) replyLoop.rewind();
        }),
      logger,
    ),
    // Shedding needs a fresh lag; without shedding the gauges alone do not need 10 reads a second.
    new PeriodicTask(
      "stream stats",
      shedder.enabled || protection.admission?.predictor ? 100 : 1000,
      () => whenConnected(() => stats.refresh()),
      logger,
    ),
    // Twice a second: memory grows with what is accepted, and shedding must see it before Redis
    // refuses the writes of requests already in flight.
    new PeriodicTask("redis memory", 500, () => whenConnected(() => memory.refresh()), logger),
    ...(lanes?.polling
      ? [new PeriodicTask("lane counts", 100, () => whenConnected(() => lanes.refresh(laneCounts)), logger)]
      : []),
    ...protection.tasks,
  ];
  // After a reconnect (Redis may have restarted empty) recreate the reply stream at once.
  redis.onReady(() => void tasks[0]?.runNow());

  const idempotency = new IdempotencyKeys(new IdempotencyStore({ client: redis, keys }), config.resultTtlS);
  const service = new RequestService({
    queue: new RedisRequestQueue({ client: streams, keys }),
    replyStream,
    pending,
    shedder,
    admission: protection.admission,
    idempotency,
    results: new ResultStore({ client: redis, keys }),
    metrics,
    logger,
    resultTtlS: config.resultTtlS,
    shutdown: shutdown.signal,
    lanes,
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
    tenants,
    tenantMetrics,
    maxBodyBytes: config.maxBodyBytes,
    maxTimeoutMs: config.maxTimeoutMs,
    defaultTimeoutMs: config.requestTimeoutMs,
  });
  /**
   * POST /api/requests as Bun's router serves it (see main.ts): the same auth check, handler and
   * error answers as through the Elysia app, without the framework's per-request routing and
   * context (A/B: about 2 µs, a tenth of the ingress's CPU per request; docs/architecture.md).
   */
  const submitRoute = (request: Request, traceparent?: string): Response | Promise<Response> =>
    refuseWithoutKey(request, config.apiKeyHashes) ?? submit(request, traceparent);

  let draining = false;
  const ready = () => !draining && redis.ready && streams.ready && replyLoop.healthy;

  const health = healthPlugin({ isReady: ready, registry });
  // With METRICS_PORT the operational routes live on their own port (see main.ts), not beside the API.
  const opsApp = config.metricsPort
    ? new Elysia({ handler: { standardHostname: false } }).use(health)
    : undefined;
  // Every client route is registered on protectedRoutes, so each one checks the API key itself.
  const clientRoutes = protectedRoutes(config.apiKeyHashes)
    .use(requestsController({ service, submit, maxTimeoutMs: config.maxTimeoutMs, tenants, tenantMetrics }))
    .use(fleetController(new FleetRegistry({ client: redis, keys })))
    .use(
      forwardController({
        service,
        idempotency,
        connections,
        budget,
        apiKeysRequired: config.apiKeyHashes.length > 0,
        tenants,
        tenantMetrics,
        maxBodyBytes: config.maxBodyBytes,
        maxTimeoutMs: config.maxTimeoutMs,
        defaultTimeoutMs: config.requestTimeoutMs,
        traceOf,
      }),
    );
  // standardHostname: false — the router takes the path from the first "/" after "http://", as
  // the auth check and the metrics do (http/request-target.ts). Its default assumes a host name of
  // at least four characters and, for `Host: a`, routed /xx/api/requests as /api/requests.
  // normalize: false — Elysia never strips unknown properties silently (the strict request body
  // itself is submit.ts's own check).
  // The operator console (/console, /api/admin): its own keys, its own checks (admin/index.ts).
  const adminConsole = createConsole({
    config,
    ingressId,
    redis,
    keys,
    stats,
    metrics,
    connections,
    logger,
    breaker: protection.breaker,
    lanes,
  });
  const app = new Elysia({ normalize: false, handler: { standardHostname: false } })
    .use(errorPlugin(logger))
    .use(openapiPlugin(version))
    .use(opsApp ? new Elysia() : health)
    .use(adminConsole.app)
    .use(clientRoutes);

  return {
    app,
    submitRoute,
    connections,
    opsApp,
    metrics,
    pending,
    start() {
      pending.start();
      replyLoop.start();
      for (const task of tasks) task.start();
      logger.info("ingress started", { ingressId, replyStream, port: config.port });
      adminConsole.announce();
    },
    /** Stops taking work, waits up to the grace time for in-flight replies, answers the rest 504. */
    async drain(graceMs: number): Promise<void> {
      draining = true;
      // Event streams never end by themselves, and the server waits for open responses.
      await adminConsole.hub.stop();
      const deadline = Date.now() + graceMs;
      while (pending.size > 0 && Date.now() < deadline) await Bun.sleep(20);
      if (pending.size > 0)
        logger.warn("grace time over, answering the rest 504", { remaining: pending.size });
      shutdown.abort();
      pending.abandonAll();
    },
    async stop(): Promise<void> {
      await Promise.all(tasks.map((task) => task.stop()));
      await replyLoop.stop();
      pending.stop();
      await upkeep.remove().catch(() => {});
      streams.close();
      redis.close();
    },
  };
}

export type Gateway = ReturnType<typeof createGateway>;
