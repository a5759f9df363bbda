import { allStarted } from "../../tools/scaffold/all-started.ts";
import { TestRedis, type TestRedisOptions } from "./redis-server.ts";
import { ServiceProcess } from "./service-process.ts";

export interface StackOptions {
  proxies?: number;
  terminals?: number;
  processingMs?: number;
  /** Environment for both services (e.g. CLAIM_IDLE_MS, MAX_DELIVERIES). */
  env?: Record<string, string>;
  ingressEnv?: Record<string, string>;
  proxyEnv?: Record<string, string>;
  redis?: TestRedisOptions;
  /** Where the ingress answers readiness, when not on its API port (METRICS_PORT). */
  ingressReadyUrl?: string;
}

/**
 * A whole stack on this machine: a private redis-server, one ingress and N proxies, each a real
 * process on a free port, with a unique STREAM_PREFIX. `stop()` tears everything down.
 */
export class Stack {
  readonly proxies: ServiceProcess[] = [];
  ingress!: ServiceProcess;

  private constructor(
    readonly redis: TestRedis,
    readonly prefix: string,
    private readonly options: StackOptions,
  ) {}

  static async start(options: StackOptions = {}): Promise<Stack> {
    const redis = await TestRedis.start(options.redis);
    const prefix = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    const stack = new Stack(redis, prefix, options);
    try {
      await allStarted(
        Array.from({ length: options.proxies ?? 2 }, (_, index) => stack.startProxy(`proxy-${index + 1}`)),
      );
      stack.ingress = await ServiceProcess.start(
        "ingress",
        { ...stack.baseEnv(), ...options.ingressEnv },
        options.ingressReadyUrl ? { readyUrl: options.ingressReadyUrl } : {},
      );
      return stack;
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }

  baseEnv(): Record<string, string> {
    return {
      REDIS_URL: this.redis.url,
      STREAM_PREFIX: this.prefix,
      LOG_LEVEL: "info",
      ...this.options.env,
    };
  }

  /** Starts one more proxy with the stack's settings (and `extraEnv`). */
  async startProxy(podName: string, extraEnv: Record<string, string> = {}): Promise<ServiceProcess> {
    const proxy = await ServiceProcess.start("proxy", {
      ...this.baseEnv(),
      POD_NAME: podName,
      TERMINALS: String(this.options.terminals ?? 5),
      PROCESSING_MS: String(this.options.processingMs ?? 150),
      ...this.options.proxyEnv,
      ...extraEnv,
    });
    this.proxies.push(proxy);
    return proxy;
  }

  /** POSTs a request to the ingress and returns status, headers and parsed JSON body. */
  async request(
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; body: Record<string, unknown> }> {
    const response = await fetch(`${this.ingress.url}/api/requests`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { raw: text };
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  /** How many entries were ever added to the request stream (0 when it does not exist). */
  async entriesAdded(): Promise<number> {
    const info = (await this.redis
      .client()
      .xinfo("STREAM", this.key("requests"))
      .catch(() => null)) as unknown[] | null;
    return info ? Number(info[info.indexOf("entries-added") + 1]) : 0;
  }

  /** Whether a client without the key left any trace: no entry, no idempotency claim, no result. */
  async untouched(): Promise<boolean> {
    const redis = this.redis.client();
    const keys = [...(await redis.keys(this.key("idem:*"))), ...(await redis.keys(this.key("result:*")))];
    return (await this.entriesAdded()) === 0 && keys.length === 0;
  }

  /** The ingress's API port. */
  get ingressPort(): number {
    return Number(new URL(this.ingress.url).port);
  }

  /** A Redis key of this stack's deployment, e.g. key("requests"). */
  key(suffix: string): string {
    return `${this.prefix}:${suffix}`;
  }

  async stop(): Promise<void> {
    await Promise.all([this.ingress, ...this.proxies].map((service) => service?.stop("SIGKILL")));
    await this.redis.destroy();
  }
}

/** Reads one sample of a metric from Prometheus text (sum over matching label sets). */
export async function metricValue(
  baseUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  let total = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labelText = match[2] ?? "";
    if (!Object.entries(labels).every(([key, value]) => labelText.includes(`${key}="${value}"`))) continue;
    total += Number(match[3]);
    found = true;
  }
  if (!found) throw new Error(`metric ${name} not found at ${baseUrl}`);
  return total;
}
