import { allStarted } from "../scaffold/all-started.ts";
import { freePort } from "../scaffold/free-port.ts";
import { RedisServer } from "../scaffold/redis-server.ts";
import { type LogLine, type ServiceKind, ServiceProcess } from "../scaffold/service-process.ts";
import type { Profile } from "./profiles.ts";
import { stackSettings } from "./profiles.ts";
import { RecordingUpstream } from "./upstream.ts";

/** One process the run started: its pid, for RSS sampling and for the report. */
export interface Instance {
  name: string;
  kind: ServiceKind | "redis";
  pid: number;
  startedAtMs: number;
  stoppedAtMs: number | undefined;
}

/** A service slot (ingress 1, proxy 3…) whose process is replaced by faults; its port stays. */
interface Slot {
  kind: ServiceKind;
  index: number;
  port: number;
  podName: string;
  process: ServiceProcess | undefined;
}

export const chaosPrefix = "chaos";

/**
 * The chaos run's own deployment on 127.0.0.1: a private redis-server with AOF in a temporary
 * directory, the recording backend, 2 ingresses and 3 proxies (HANDLER=http), each a real process
 * started through tools/scaffold. Every process it starts is remembered by pid, and `destroy()`
 * kills exactly those and removes the directory.
 */
export class ChaosStack {
  readonly instances: Instance[] = [];
  /** Error-level log lines per service name, for the report. */
  readonly errorLogs = new Map<string, string[]>();
  private readonly slots: Slot[] = [];
  private generation = 0;

  private constructor(
    readonly redis: RedisServer,
    readonly upstream: RecordingUpstream,
    private readonly profile: Profile,
  ) {}

  static async start(profile: Profile): Promise<ChaosStack> {
    const redis = await RedisServer.start({ appendonly: true, dirPrefix: "rsd-chaos-redis-" });
    const stack = new ChaosStack(redis, new RecordingUpstream(), profile);
    stack.remember("redis", "redis", redis.pid as number);
    try {
      for (let index = 0; index < stackSettings.proxies; index++)
        stack.slots.push({
          kind: "proxy",
          index,
          port: await freePort(),
          podName: `proxy-${index + 1}`,
          process: undefined,
        });
      for (let index = 0; index < stackSettings.ingresses; index++)
        stack.slots.push({
          kind: "ingress",
          index,
          port: await freePort(),
          podName: `ingress-${index + 1}`,
          process: undefined,
        });
      await allStarted(stack.slots.map((slot) => stack.launch(slot)));
      return stack;
    } catch (error) {
      await stack.destroy();
      throw error;
    }
  }

  /** The ingresses' base URLs, by index (stable: a restarted ingress keeps its port). */
  get ingressUrls(): string[] {
    return this.slotsOf("ingress").map((slot) => `http://127.0.0.1:${slot.port}`);
  }

  /** Every service process alive now, with its name. */
  liveServices(): { name: string; process: ServiceProcess }[] {
    return this.slots.flatMap((slot) =>
      slot.process ? [{ name: slot.podName, process: slot.process }] : [],
    );
  }

  /** Stops a proxy or ingress with `signal` and starts it again (with a new POD_NAME if asked). */
  async restart(kind: ServiceKind, index: number, signal: NodeJS.Signals, newName = false): Promise<void> {
    const slot = this.slotsOf(kind)[index];
    if (!slot) throw new Error(`no ${kind} ${index}`);
    await this.stopSlot(slot, signal);
    if (newName) slot.podName = `${kind}-${index + 1}-g${++this.generation}`;
    await this.launch(slot);
  }

  async stopSlot(slot: Slot, signal: NodeJS.Signals): Promise<void> {
    const running = slot.process;
    if (!running) return;
    slot.process = undefined;
    await running.stop(signal, stackSettings.shutdownGraceMs + 10_000);
    this.forget(running.pid);
  }

  /** Redis killed (SIGKILL: only what AOF holds survives), down for `downMs`, started again. */
  async restartRedis(downMs: number): Promise<void> {
    const pid = this.redis.pid;
    await this.redis.kill();
    if (pid) this.forget(pid);
    await Bun.sleep(downMs);
    await this.redis.startProcess();
    this.remember("redis", "redis", this.redis.pid as number);
  }

  /** Kills every process this run started (by its pid) and removes the temporary directory. */
  async destroy(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.stopSlot(slot, "SIGKILL").catch(() => {})));
    this.upstream.stop();
    await this.redis.destroy();
  }

  private slotsOf(kind: ServiceKind): Slot[] {
    return this.slots.filter((slot) => slot.kind === kind);
  }

  private async launch(slot: Slot): Promise<void> {
    const common = {
      REDIS_URL: this.redis.url,
      STREAM_PREFIX: chaosPrefix,
      LOG_LEVEL: "warn",
      POD_NAME: slot.podName,
      SHUTDOWN_GRACE_MS: String(stackSettings.shutdownGraceMs),
      MAX_TIMEOUT_MS: "60000",
    };
    const env =
      slot.kind === "ingress"
        ? {
            ...common,
            REQUEST_TIMEOUT_MS: String(stackSettings.requestTimeoutMs),
            MAX_QUEUE_DEPTH: String(this.profile.maxQueueDepth),
            // Long enough that every async outcome of a 10-minute run is still there for the checker.
            RESULT_TTL_S: "3600",
          }
        : {
            ...common,
            HANDLER: "http",
            UPSTREAM_URL: this.upstream.url,
            TERMINALS: String(stackSettings.terminals),
            CLAIM_IDLE_MS: String(stackSettings.claimIdleMs),
            MAX_DELIVERIES: String(stackSettings.maxDeliveries),
          };
    const service = await ServiceProcess.launch({
      kind: slot.kind,
      name: slot.podName,
      port: slot.port,
      env,
      keepLines: 200,
      readyTimeoutMs: 30_000,
      onLine: (line) => this.noteLine(slot.podName, line),
    });
    slot.process = service;
    this.remember(slot.podName, slot.kind, service.pid);
  }

  private noteLine(name: string, line: string): void {
    if (!line.startsWith("{")) return;
    let parsed: LogLine;
    try {
      parsed = JSON.parse(line) as LogLine;
    } catch {
      return;
    }
    if (parsed.level !== "error") return;
    const lines = this.errorLogs.get(name) ?? [];
    if (lines.length < 20) lines.push(line.slice(0, 500));
    this.errorLogs.set(name, lines);
  }

  private remember(name: string, kind: Instance["kind"], pid: number): void {
    this.instances.push({ name, kind, pid, startedAtMs: Date.now(), stoppedAtMs: undefined });
  }

  private forget(pid: number): void {
    const instance = this.instances.find(
      (candidate) => candidate.pid === pid && candidate.stoppedAtMs === undefined,
    );
    if (instance) instance.stoppedAtMs = Date.now();
  }
}
