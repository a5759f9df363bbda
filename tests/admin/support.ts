import { Stack } from "../helpers/stack.ts";
import { TestUpstream } from "../helpers/upstream.ts";
import { waitFor } from "../helpers/wait.ts";

export const adminKey = "admin-key-0123456789abcdef";
export const clientKey = "client-key-0123456789abcdef";

/** ADMIN_API_KEYS and API_KEYS as the admin tests run the ingress. */
export const keyedEnv = { ADMIN_API_KEYS: `ops:${adminKey}`, API_KEYS: clientKey };

/** A JSON call to the ingress with an optional Bearer key; the body parsed when it is JSON. */
export async function call(
  baseUrl: string,
  path: string,
  { key, method = "GET", body }: { key?: string; method?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  } catch {
    return { status: response.status, body: { raw: text } };
  }
}

/**
 * A stack whose proxies forward to a backend that is down (so requests are dead-lettered after
 * MAX_DELIVERIES attempts) until `backendUp()` brings it back at the same address.
 */
export class DeadLetterStack {
  private upstream: TestUpstream | undefined;

  private constructor(
    readonly stack: Stack,
    private readonly port: number,
  ) {}

  static async start(env: Record<string, string> = {}, proxies = 1): Promise<DeadLetterStack> {
    const probe = new TestUpstream();
    const port = Number(new URL(probe.url).port);
    probe.stop();
    const stack = await Stack.start({
      proxies,
      env: { MAX_DELIVERIES: "2", ...env },
      proxyEnv: { HANDLER: "http", UPSTREAM_URL: `http://127.0.0.1:${port}` },
    });
    return new DeadLetterStack(stack, port);
  }

  get url(): string {
    return this.stack.ingress.url;
  }

  backendUp(): TestUpstream {
    this.upstream ??= new TestUpstream(this.port);
    return this.upstream;
  }

  backendDown(): void {
    this.upstream?.stop();
    this.upstream = undefined;
  }

  /** A stored request (Idempotency-Key) that fails for good while the backend is down: its id. */
  async failedRequest(
    marker: string,
    key?: string,
    extraHeaders: Record<string, string> = {},
  ): Promise<string> {
    const headers: Record<string, string> = { "idempotency-key": `k-${marker}`, ...extraHeaders };
    if (key) headers.authorization = `Bearer ${key}`;
    const response = await fetch(`${this.url}/proxy/echo?marker=${marker}`, { headers });
    const body = (await response.json()) as { id?: string; status?: string };
    if (response.status !== 502 || typeof body.id !== "string")
      throw new Error(`expected a 502 with an id, got ${response.status} ${JSON.stringify(body)}`);
    return body.id;
  }

  /** Waits until the stored outcome of `id` answers `status`. */
  async outcome(id: string, status: number, key?: string): Promise<Record<string, unknown>> {
    return await waitFor(
      `GET /api/requests/${id} → ${status}`,
      async () => {
        const answer = await call(this.url, `/api/requests/${id}`, key ? { key } : {});
        return answer.status === status ? answer.body : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  }

  async stop(): Promise<void> {
    this.backendDown();
    await this.stack.stop();
  }
}
