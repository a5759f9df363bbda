import type { Server } from "bun";
import { errorThreshold, type FragileSettings, latencyMs, type Verdict } from "./model.ts";
import { BackendStats } from "./stats.ts";
import { Windows } from "./windows.ts";

export interface FragileBackendOptions {
  host: string;
  port: number;
  settings: FragileSettings;
  /** Calls held at once beyond which it answers 503 at once: the backend's own memory bound. */
  maxInflight: number;
  /** Retry-After of throttle storms, seconds. */
  throttleRetryAfterS: number;
}

const maxAdminBodyBytes = 4096;

/**
 * A backend that breaks the way real ones do: flat latency up to a concurrency knee, then
 * quadratic growth, then 500s past `errorAt`; a per-second quota answered 429 + Retry-After;
 * outage windows (500) and throttle storms (429 + Retry-After). Its settings change at run time
 * through /_admin routes, so a run can halve the knee halfway through.
 */
export class FragileBackend {
  readonly stats = new BackendStats();
  readonly outages = new Windows();
  readonly throttles = new Windows();
  private readonly server: Server<undefined>;
  private quotaSecond = 0;
  private quotaUsed = 0;

  constructor(private readonly options: FragileBackendOptions) {
    this.server = Bun.serve({
      hostname: options.host,
      port: options.port,
      idleTimeout: 60,
      // Bodies are read and dropped: a bound keeps a careless client from filling memory.
      maxRequestBodySize: 1024 * 1024,
      fetch: (request) => this.route(request),
    });
  }

  get settings(): FragileSettings {
    return this.options.settings;
  }

  get url(): string {
    return `http://${this.options.host}:${this.server.port}`;
  }

  stop(): void {
    this.server.stop(true);
  }

  /** Throttle every call for `ms` from now, with Retry-After `retryAfterS`. */
  throttleFor(ms: number, retryAfterS = this.options.throttleRetryAfterS): void {
    this.options.throttleRetryAfterS = retryAfterS;
    if (ms === 0) {
      this.throttles.clear();
      return;
    }
    this.throttles.add({ from: Date.now(), until: Date.now() + ms });
  }

  /** An outage of `ms` from `from`; ms = 0 ends every outage. */
  outageFor(ms: number, from = Date.now()): void {
    if (ms === 0) {
      this.outages.clear();
      return;
    }
    this.outages.add({ from, until: from + ms });
  }

  private async route(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/healthz" || path === "/readyz") return Response.json({ status: "ok" });
    if (path.startsWith("/_admin/")) return await this.admin(request, path);
    return await this.call(request);
  }

  private async call(request: Request): Promise<Response> {
    const now = Date.now();
    this.stats.arrived(now);
    if (this.stats.concurrent >= this.options.maxInflight) {
      this.stats.answered("overflow");
      return Response.json({ error: "backend overflow" }, { status: 503 });
    }
    // The body is read (and dropped) like a real backend would, within a bound.
    await request.arrayBuffer().catch(() => undefined);
    this.stats.concurrent++;
    this.stats.maxConcurrent = Math.max(this.stats.maxConcurrent, this.stats.concurrent);
    try {
      const verdict = this.judge(now, this.stats.concurrent);
      this.stats.answered(verdict.kind);
      switch (verdict.kind) {
        case "outage":
          return Response.json({ error: "outage" }, { status: 500 });
        case "throttled":
          return Response.json(
            { error: "slow down" },
            { status: 429, headers: { "retry-after": String(verdict.retryAfterS) } },
          );
        case "error":
          await Bun.sleep(verdict.delayMs);
          return Response.json({ error: "overloaded" }, { status: 500 });
        case "ok":
          await Bun.sleep(verdict.delayMs);
          return Response.json({ ok: true, concurrent: this.stats.concurrent });
      }
    } finally {
      this.stats.concurrent--;
    }
  }

  private judge(now: number, concurrent: number): Verdict {
    if (this.outages.active(now)) return { kind: "outage" };
    const storm = this.throttles.active(now);
    if (storm) return { kind: "throttled", retryAfterS: this.options.throttleRetryAfterS };
    const { settings } = this;
    if (settings.quotaRps > 0) {
      const second = Math.floor(now / 1000);
      if (second !== this.quotaSecond) {
        this.quotaSecond = second;
        this.quotaUsed = 0;
      }
      if (++this.quotaUsed > settings.quotaRps) return { kind: "throttled", retryAfterS: 1 };
    }
    const delayMs = Math.min(30_000, latencyMs(settings, concurrent));
    return concurrent > errorThreshold(settings) ? { kind: "error", delayMs } : { kind: "ok", delayMs };
  }

  /** GET /_admin/stats; POST /_admin/settings {knee?,baseMs?,errorAt?,noise?,quotaRps?}; POST /_admin/outage|throttle {ms, retryAfterS?} (ms 0 ends them). */
  private async admin(request: Request, path: string): Promise<Response> {
    if (request.method === "GET" && path === "/_admin/stats")
      return Response.json({ ...this.stats.toJSON(), settings: this.settings });
    if (request.method !== "POST") return Response.json({ error: "use GET stats or POST" }, { status: 405 });
    const body = await readSmallJson(request);
    if (body === undefined)
      return Response.json({ error: "expected a JSON object up to 4 KiB" }, { status: 400 });
    if (path === "/_admin/settings") {
      const error = applySettings(this.options.settings, body);
      return error ? Response.json({ error }, { status: 400 }) : Response.json(this.settings);
    }
    const ms = body.ms;
    if (typeof ms !== "number" || !Number.isInteger(ms) || ms < 0 || ms > 3_600_000)
      return Response.json({ error: "ms must be an integer 0..3600000" }, { status: 400 });
    if (path === "/_admin/outage") this.outageFor(ms);
    else if (path === "/_admin/throttle") {
      const retryAfterS = body.retryAfterS ?? this.options.throttleRetryAfterS;
      if (
        typeof retryAfterS !== "number" ||
        !Number.isInteger(retryAfterS) ||
        retryAfterS < 0 ||
        retryAfterS > 3600
      )
        return Response.json({ error: "retryAfterS must be an integer 0..3600" }, { status: 400 });
      this.throttleFor(ms, retryAfterS);
    } else return Response.json({ error: "no such admin route" }, { status: 404 });
    return Response.json({ ok: true });
  }
}

async function readSmallJson(request: Request): Promise<Record<string, unknown> | undefined> {
  const length = Number(request.headers.get("content-length") ?? "NaN");
  if (!Number.isFinite(length) || length > maxAdminBodyBytes) return undefined;
  try {
    const value: unknown = JSON.parse(await request.text());
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const settingBounds: Record<keyof FragileSettings, [number, number]> = {
  baseMs: [0, 60_000],
  knee: [1, 100_000],
  errorAt: [0, 100_000],
  noise: [0, 1],
  quotaRps: [0, 1_000_000],
};

/** Applies the known, in-range properties of `body`; the error text when one is not. */
export function applySettings(settings: FragileSettings, body: Record<string, unknown>): string | undefined {
  const next = { ...settings };
  for (const [name, value] of Object.entries(body)) {
    const bounds = settingBounds[name as keyof FragileSettings];
    if (!bounds) return `unknown setting ${JSON.stringify(name).slice(0, 40)}`;
    if (typeof value !== "number" || !Number.isFinite(value) || value < bounds[0] || value > bounds[1])
      return `${name} must be a number ${bounds[0]}..${bounds[1]}`;
    next[name as keyof FragileSettings] = value;
  }
  Object.assign(settings, next);
  return undefined;
}
