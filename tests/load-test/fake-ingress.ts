import type { Server } from "bun";

export interface FakeIngressOptions {
  /** Default processing time per request. */
  processingMs?: number;
  /** Every Nth request is answered 503 (0: never). */
  shedEvery?: number;
  /** After this many requests have arrived, the server stops answering for `stallMs`. */
  stallAfter?: number;
  stallMs?: number;
  /** Answer 401 on /api/* unless `Authorization: Bearer <apiKey>` is sent. */
  apiKey?: string;
  /** Serve GET /api/fleet (older servers do not). */
  fleet?: { pods: number; terminals: number } | null;
}

/**
 * A stand-in for the ingress on 127.0.0.1 that speaks the HTTP contract (sync, async + polling,
 * 503, 504, /api/fleet), for tests of the load tester that need a server whose behaviour they
 * control exactly — e.g. one that stalls for a second at a known moment.
 */
export class FakeIngress {
  arrived = 0;
  inFlight = 0;
  peakInFlight = 0;
  /** When the stall began (performance.now()), once it has. */
  stallStartedAt: number | undefined;
  private stallEnds: Promise<void> | undefined;
  private readonly results = new Map<string, { readyAt: number; body: unknown }>();
  readonly server: Server<undefined>;

  constructor(private readonly options: FakeIngressOptions = {}) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 60,
      fetch: (request) => this.handle(request),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (this.options.apiKey && request.headers.get("authorization") !== `Bearer ${this.options.apiKey}`) {
      return Response.json({ error: "missing or invalid API key" }, { status: 401 });
    }
    if (url.pathname === "/api/fleet") {
      const fleet = this.options.fleet;
      if (!fleet) return Response.json({ error: "not found" }, { status: 404 });
      const processingMs = this.options.processingMs ?? 0;
      return Response.json({
        ...fleet,
        busy: 0,
        processingMs,
        theoreticalRps: processingMs > 0 ? fleet.terminals / (processingMs / 1000) : null,
      });
    }
    if (request.method === "GET" && url.pathname.startsWith("/api/requests/")) {
      const stored = this.results.get(url.pathname.slice("/api/requests/".length));
      if (!stored) return Response.json({ error: "unknown" }, { status: 404 });
      if (performance.now() < stored.readyAt) return Response.json({ status: "pending" }, { status: 202 });
      return Response.json(stored.body);
    }
    if (request.method !== "POST" || url.pathname !== "/api/requests")
      return new Response("no", { status: 404 });
    return await this.post(request);
  }

  private async post(request: Request): Promise<Response> {
    const arrivedAt = performance.now();
    this.arrived += 1;
    const number = this.arrived;
    const { payload, timeoutMs } = (await request.json()) as {
      payload?: { simulate?: { ms?: number } };
      timeoutMs?: number;
    };
    const ms = payload?.simulate?.ms ?? this.options.processingMs ?? 0;
    const id = crypto.randomUUID();
    const completed = {
      id,
      status: "completed",
      result: { echo: payload },
      pod: "fake-1",
      terminal: 0,
      queuedMs: 0,
      processingMs: ms,
      totalMs: ms,
    };

    if (this.options.stallAfter !== undefined && number === this.options.stallAfter) {
      this.stallStartedAt = arrivedAt;
      this.stallEnds = Bun.sleep(this.options.stallMs ?? 1000);
    }
    this.inFlight += 1;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    try {
      // A stalled server answers nothing, including requests that arrive during the stall.
      if (this.stallEnds) await this.stallEnds;
      if (this.options.shedEvery && number % this.options.shedEvery === 0) {
        return Response.json({ error: "overloaded" }, { status: 503, headers: { "retry-after": "1" } });
      }
      if (request.headers.get("prefer") === "respond-async") {
        this.results.set(id, { readyAt: performance.now() + ms, body: completed });
        return Response.json(
          { id, status: "pending" },
          { status: 202, headers: { location: `/api/requests/${id}` } },
        );
      }
      if (timeoutMs !== undefined && timeoutMs < ms) {
        await Bun.sleep(timeoutMs);
        return Response.json({ id, status: "timeout" }, { status: 504 });
      }
      if (ms > 0) await Bun.sleep(ms);
      return Response.json(completed);
    } finally {
      this.inFlight -= 1;
    }
  }
}
