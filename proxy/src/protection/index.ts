import {
  BackendPause,
  CircuitBreaker,
  FleetRateLimit,
  type Logger,
  PeriodicTask,
  type ProxyConfig,
  type RedisClient,
  type StreamKeys,
} from "@rsd/shared";
import type { Registry } from "prom-client";
import type { TerminalPool } from "../terminal-pool.ts";
import { AdaptiveLimit } from "./adaptive-limit.ts";
import { type BackendObserver, observers } from "./backend-signals.ts";
import { BreakerGate } from "./breaker-gate.ts";
import { ProtectionMetrics } from "./metrics.ts";
import { PauseGate } from "./pause-gate.ts";
import { RateGate } from "./rate-gate.ts";
import { chainGates } from "./read-gate.ts";

export interface ProtectionDeps {
  config: ProxyConfig;
  pool: TerminalPool;
  commands: RedisClient;
  keys: StreamKeys;
  registry: Registry;
  logger: Logger;
}

/**
 * The proxy's backend protections, built from config-protection.ts: each is created only when
 * its variable turns it on, so with everything off `observer` is undefined and the hot path
 * pays one `undefined` check.
 */
export function createProtection({ config, pool, commands, keys, registry, logger }: ProtectionDeps) {
  const settings = config.protection;
  const metrics = new ProtectionMetrics(registry, () => pool.limit);
  let limiter: AdaptiveLimit | undefined;
  if (settings.concurrencyLimit === "adaptive") {
    limiter = new AdaptiveLimit({
      min: settings.minTerminals,
      max: config.terminals,
      inUse: () => pool.inUse,
      onChange: (limit) => {
        pool.setLimit(limit);
        logger.debug("concurrency limit changed", { limit });
      },
    });
    pool.setLimit(limiter.limit);
  }
  const tasks: PeriodicTask[] = [];
  let pause: PauseGate | undefined;
  if (settings.backendPause) {
    const gate = new PauseGate(new BackendPause({ client: commands, keys }), logger, () =>
      metrics.pauses.inc(),
    );
    pause = gate;
    tasks.push(
      new PeriodicTask("backend pause", 200, () => (commands.ready ? gate.refresh() : undefined), logger),
    );
  }
  let breaker: BreakerGate | undefined;
  if (settings.breaker) {
    const gate = new BreakerGate(new CircuitBreaker({ client: commands, keys }), settings.breaker, logger);
    breaker = gate;
    metrics.watchBreaker(() => gate.state);
    tasks.push(
      new PeriodicTask("circuit breaker", 200, () => (commands.ready ? gate.sync() : undefined), logger),
    );
  }
  const observer: BackendObserver | undefined = observers([limiter, pause, breaker]);
  const rate =
    settings.rateLimitRps > 0
      ? new RateGate(
          new FleetRateLimit({
            client: commands,
            keys,
            rps: settings.rateLimitRps,
            burst: settings.rateLimitBurst,
          }),
          logger,
        )
      : undefined;
  // The rate limit last: it is the only gate holding something (tokens) a later "no" would waste.
  const gate = chainGates([pause, breaker, rate]);
  // Told of every read entry that made no backend call (it had expired): only the breaker cares.
  const notCalled = breaker ? () => breaker?.notCalled() : undefined;
  return { observer, gate, metrics, pauses: pause, tasks, notCalled };
}
