import type { Server } from "bun";

/**
 * A local backend for the `http` handler's tests (Bun.serve on a free port). It records how many
 * requests it holds at once, every request it saw, and the requests whose client went away.
 */
export class TestUpstream {
  inFlight = 0;
  maxInFlight = 0;
  readonly seen: { method: string; path: string; headers: Record<string, string> }[] = [];
  readonly aborted: string[] = [];
  /** `?id=` values of /flaky-once already failed once. */
  private readonly failedOnce = new Set<string>();
  private readonly server: Server<undefined>;

  /** `port`: 0 for a free one; a given one to bring a stopped backend back at the same address. */
  constructor(port = 0) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port,
      idleTimeout: 60,
      fetch: (request) => this.handle(request),
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  callsTo(path: string): number {
    return this.seen.filter((call) => call.path === path).length;
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    this.seen.push({
      method: request.method,
      path: url.pathname,
      headers: Object.fromEntries(request.headers),
    });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.route(request, url);
    } finally {
      this.inFlight--;
    }
  }

  private async route(request: Request, url: URL): Promise<Response> {
    const wait = Number(url.searchParams.get("ms") ?? 0);
    if (wait > 0) {
      const aborted = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), wait);
        request.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (aborted) {
        this.aborted.push(url.pathname);
        return new Response(null, { status: 499 });
      }
    }
    switch (url.pathname) {
      case "/echo":
        return Response.json(
          {
            method: request.method,
            path: url.pathname,
            query: url.search,
            headers: Object.fromEntries(request.headers),
            body: await request.text(),
          },
          { headers: { "x-upstream": "yes", "set-cookie": "session=abc; Path=/" } },
        );
      case "/binary":
        return new Response(new Uint8Array(Array.from({ length: 256 }, (_, index) => index)), {
          headers: { "content-type": "application/octet-stream" },
        });
      case "/missing":
        return Response.json({ error: "no such thing" }, { status: 404, headers: { "x-reason": "missing" } });
      case "/broken":
        return new Response("backend exploded", { status: 503 });
      case "/flaky-once": {
        // 503 the first time an `id` is seen, 200 after: a request that succeeds on its retry.
        const id = url.searchParams.get("id") ?? "";
        if (this.failedOnce.has(id)) return new Response(`ok ${id}`);
        if (this.failedOnce.size < 10_000) this.failedOnce.add(id);
        return new Response("try again", { status: 503 });
      }
      default:
        return new Response(`ok ${request.method} ${url.pathname}`, {
          headers: { "content-type": "text/plain" },
        });
    }
  }
}
