import { ServiceProcess } from "../../scaffold/service-process.ts";
import { Launcher } from "../launcher.ts";

/** The setting: a backend knee at 16 concurrent calls, 40 ms below it; 2 proxies × 64 terminals. */
export const PROTECTION = { knee: 16, baseMs: 40, proxies: 2, terminals: 64 } as const;

export interface FragileStats {
  calls: number;
  byKind: Record<string, number>;
  perSecond: [number, number][];
}

/**
 * One protection scenario's processes: a private Redis, the fragile backend, proxies with
 * HANDLER=http toward it and one ingress, all on free ports of 127.0.0.1, stopped by `stop()`.
 */
export class ProtectionStack {
  private constructor(
    private readonly launcher: Launcher,
    readonly backend: ServiceProcess,
    readonly ingressUrl: string,
    readonly proxyUrls: string[],
    readonly redisUrl: string,
  ) {}

  static async start(options: {
    backendArgs?: string[];
    proxyEnv?: Record<string, string>;
    ingressEnv?: Record<string, string>;
    env?: Record<string, string>;
    terminals?: number;
  }): Promise<ProtectionStack> {
    const launcher = new Launcher();
    // Not the launcher's: stop() stops it after the proxies, so their last calls find it alive.
    // First, so a start that fails after it can stop it.
    const backend = await ServiceProcess.launch({
      kind: "fragile-backend",
      entry: "tools/fragile-backend/main.ts",
      env: {},
      args: [
        "--knee",
        String(PROTECTION.knee),
        "--base-ms",
        String(PROTECTION.baseMs),
        ...(options.backendArgs ?? []),
      ],
      keepLines: 50,
    });
    try {
      const redis = await launcher.redis();
      const env = {
        REDIS_URL: redis.url,
        STREAM_PREFIX: "bench-protection",
        LOG_LEVEL: "error",
        ...options.env,
      };
      const proxies = await Promise.all(
        Array.from({ length: PROTECTION.proxies }, (_, index) =>
          launcher.service("proxy", `proxy-${index + 1}`, {
            ...env,
            POD_NAME: `bench-proxy-${index + 1}`,
            HANDLER: "http",
            UPSTREAM_URL: backend.url,
            TERMINALS: String(options.terminals ?? PROTECTION.terminals),
            ...options.proxyEnv,
          }),
        ),
      );
      const ingress = await launcher.service("ingress", "ingress", {
        ...env,
        POD_NAME: "bench-ingress",
        ...options.ingressEnv,
      });
      const stack = new ProtectionStack(
        launcher,
        backend,
        ingress.url,
        proxies.map((proxy) => proxy.url),
        redis.url,
      );
      stack.stopBackend = () => backend.stop("SIGKILL");
      return stack;
    } catch (error) {
      await launcher.stopAll();
      await backend.stop("SIGKILL");
      throw error;
    }
  }

  private stopBackend: () => Promise<unknown> = async () => {};

  async stats(): Promise<FragileStats> {
    return (await (await fetch(`${this.backend.url}/_admin/stats`)).json()) as FragileStats;
  }

  async admin(route: "settings" | "outage" | "throttle", body: unknown): Promise<void> {
    const response = await fetch(`${this.backend.url}/_admin/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 200) throw new Error(`fragile backend ${route}: ${response.status}`);
  }

  /** Sum over the proxies of one metric sample (no labels). */
  async proxyMetric(name: string): Promise<number> {
    let total = 0;
    for (const url of this.proxyUrls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      const line = text.split("\n").find((candidate) => candidate.startsWith(`${name} `));
      total += Number(line?.split(" ")[1] ?? 0);
    }
    return total;
  }

  /** Requests dead-lettered so far (XLEN of the dead-letter stream). */
  deadLetters(): number {
    const result = Bun.spawnSync(["redis-cli", "-u", this.redisUrl, "XLEN", "bench-protection:dead"], {
      timeout: 10_000,
    });
    return Number(result.stdout.toString().trim()) || 0;
  }

  async stop(): Promise<void> {
    await this.launcher.stopAll();
    await this.stopBackend();
  }
}
