import type { Server } from "bun";

/** What the backend does right now: answer, fail a share of calls (500), or hold every call. */
export type BackendMode =
  | { kind: "ok" }
  | { kind: "failing"; share: number }
  | { kind: "stalling"; ms: number };

/** Header on every answer the backend itself gives, so a /proxy/* answer is told apart from the gateway's own. */
export const upstreamHeader = "x-chaos-upstream";
export const markerHeader = "x-chaos-marker";
/** The path under UPSTREAM_URL a /proxy/* request names its marker in: /proxy/m/<marker>. */
export const markerPath = "/m/";

/**
 * The recording backend: every call it receives is counted by the request marker it carries (a
 * JSON body's `marker`, or the path /m/<marker>), before anything else happens, so a call whose
 * caller gave up still counts. Its answers echo the marker, which lets the checker see a reply that
 * reached the wrong client. It lives in the chaos process: its counts are the ground truth the
 * checker holds the gateway to, and they never pass through the system under test.
 */
export class RecordingUpstream {
  readonly calls = new Map<string, number>();
  /** Calls without a readable marker (the gateway mangled a request): the checker flags them. */
  unmarked = 0;
  total = 0;
  private mode: BackendMode = { kind: "ok" };
  private readonly server: Server<undefined>;

  constructor(private readonly random: () => number = Math.random) {
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      idleTimeout: 60,
      fetch: (request) => this.handle(request),
    });
  }

  /** UPSTREAM_URL for the proxies. */
  get url(): string {
    return `http://127.0.0.1:${this.server.port}/up`;
  }

  setMode(mode: BackendMode): void {
    this.mode = mode;
  }

  callsFor(marker: string): number {
    return this.calls.get(marker) ?? 0;
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const fromPath = url.pathname.startsWith(`/up${markerPath}`)
      ? url.pathname.slice(`/up${markerPath}`.length)
      : undefined;
    const text = await request.text();
    let payload: unknown = null;
    if (!fromPath) {
      try {
        payload = JSON.parse(text);
      } catch {
        payload = null;
      }
    }
    const marker = fromPath ?? markerOf(payload);
    this.total++;
    if (marker === undefined) {
      this.unmarked++;
      return new Response("no marker", { status: 400, headers: { [upstreamHeader]: "1" } });
    }
    this.calls.set(marker, (this.calls.get(marker) ?? 0) + 1);
    const mode = this.mode;
    const headers = { [upstreamHeader]: "1", [markerHeader]: marker };
    if (mode.kind === "failing" && this.random() < mode.share) {
      return Response.json({ marker, failing: true }, { status: 500, headers });
    }
    // A little work, so terminals are busy for a while; a stall holds the call much longer.
    await Bun.sleep(mode.kind === "stalling" ? mode.ms : 5 + Math.floor(this.random() * 30));
    return Response.json(fromPath ? { marker } : { marker, echo: payload }, { headers });
  }
}

function markerOf(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null) return undefined;
  const marker = (payload as Record<string, unknown>).marker;
  return typeof marker === "string" ? marker : undefined;
}
