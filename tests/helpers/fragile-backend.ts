import { ServiceProcess } from "../../tools/scaffold/service-process.ts";

export interface FragileStats {
  calls: number;
  concurrent: number;
  maxConcurrent: number;
  byKind: { ok: number; error: number; throttled: number; outage: number; overflow: number };
  perSecond: [number, number][];
  settings: Record<string, number>;
}

/**
 * The fragile backend (tools/fragile-backend) as a real process on a free port, for tests that
 * need a backend with a knee, a quota, outages and throttle storms, and its counts.
 */
export class FragileBackendProcess {
  private constructor(readonly process: ServiceProcess) {}

  static async start(args: string[] = []): Promise<FragileBackendProcess> {
    const service = await ServiceProcess.launch({
      kind: "fragile-backend",
      entry: "tools/fragile-backend/main.ts",
      env: {},
      args,
      readyTimeoutMs: 15_000,
    });
    return new FragileBackendProcess(service);
  }

  get url(): string {
    return this.process.url;
  }

  async stats(): Promise<FragileStats> {
    return (await (await fetch(`${this.url}/_admin/stats`)).json()) as FragileStats;
  }

  async admin(route: "settings" | "outage" | "throttle", body: unknown): Promise<Response> {
    return await fetch(`${this.url}/_admin/${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  async stop(): Promise<void> {
    await this.process.stop("SIGKILL");
  }
}
