import { endToEndHeaders, type ForwardedRequest, type ForwardedResponse, type Logger } from "@rsd/shared";
import type { BackendObserver, CallOutcome } from "../protection/backend-signals.ts";
import { ResponseTooLargeError, readCappedBody } from "./capped-body.ts";
import { BackendPausedError, type Handler, type HandlerRequest, UnrecoverableError } from "./handler.ts";
import { defaultPauseMs, retryAfterMs } from "./retry-after.ts";
import { UpstreamTarget } from "./upstream-url.ts";

/** An upstream answer worth another attempt (a 5xx to a request that may be repeated). */
export class RetryableUpstreamError extends Error {
  override name = "RetryableUpstreamError";
}

export interface HttpHandlerOptions {
  upstreamUrl: string;
  /** Added to every upstream request (e.g. an auth header); never logged. */
  upstreamHeaders: Record<string, string>;
  maxDeliveries: number;
  /** The most bytes of one upstream response the proxy reads; past it the request fails (502). */
  maxResponseBytes: number;
  /** Upstream failures are logged here with their detail; the client only hears what kind they were. */
  logger: Logger;
  /** How a request reaches the upstream: `fetch`, or with tracing on a client span around it (tracing/). */
  send?: Send;
  /** Hears how every call went (the adaptive limit, the breaker); undefined when they are off. */
  observer?: BackendObserver | undefined;
  /** BACKEND_PAUSE=on: a 429, or a 503 with Retry-After, pauses the fleet instead of answering. */
  pauseOnRetryAfter?: boolean;
}

/** `fetch` as the handler calls it: always with a Headers object, so a tracer can set `traceparent`. */
export type Send = (url: string, init: BunFetchRequestInit & { headers: Headers }) => Promise<Response>;

/**
 * Calls UPSTREAM_URL, one request per terminal, so the backend never sees more than
 * pods × terminals at once; Bun's fetch keeps the connections alive and reuses them. The
 * request's deadline is the upstream timeout (the signal aborts the call). Upstream 5xx and
 * connection errors are retried only when the request may be repeated (idempotent method or an
 * Idempotency-Key) and attempts remain; otherwise a 5xx is passed through like any other answer
 * and an unreachable upstream fails for good (502, naming the cause).
 *
 * `POST /api/requests` payloads are POSTed as JSON; the result is the upstream's JSON body.
 * `ANY /proxy/*` requests are replayed as they came; the result is the whole response.
 */
export class HttpHandler implements Handler {
  readonly name = "http";
  readonly nominalMs = null;
  private readonly target: UpstreamTarget;
  private readonly send: Send;
  /** Some protection wants to hear about every call. */
  private readonly watched: boolean;

  constructor(private readonly options: HttpHandlerOptions) {
    this.target = new UpstreamTarget(options.upstreamUrl);
    this.send = options.send ?? fetch;
    this.watched = options.observer !== undefined || options.pauseOnRetryAfter === true;
  }

  async handle(request: HandlerRequest): Promise<string> {
    return request.kind === "http" ? await this.forward(request) : await this.postJson(request);
  }

  private async forward(request: HandlerRequest): Promise<string> {
    const forwarded = JSON.parse(request.payload) as ForwardedRequest;
    const headers = new Headers(forwarded.headers);
    for (const [name, value] of Object.entries(this.options.upstreamHeaders)) headers.set(name, value);
    // The same trace as the ingress wrote into the envelope, or this attempt's span with tracing on.
    if (request.traceparent) headers.set("traceparent", request.traceparent);
    const hasBody = forwarded.body !== "" && forwarded.method !== "GET" && forwarded.method !== "HEAD";
    const response = await this.call(request, this.target.urlFor(forwarded.path, forwarded.query), {
      method: forwarded.method,
      headers,
      body: hasBody ? Buffer.from(forwarded.body, "base64") : null,
    });
    this.retryIfWorthIt(request, response.status);
    const body = await this.readBody(request, response);
    const answer: ForwardedResponse = {
      status: response.status,
      // Hop-by-hop ones, and any the upstream's Connection header names, are the gateway's business.
      headers: endToEndHeaders(response.headers),
      body: body.toString("base64"),
    };
    return JSON.stringify(answer);
  }

  private async postJson(request: HandlerRequest): Promise<string> {
    const headers = new Headers({ "content-type": "application/json", ...this.options.upstreamHeaders });
    if (request.traceparent) headers.set("traceparent", request.traceparent);
    const response = await this.call(request, this.target.root, {
      method: "POST",
      headers,
      body: request.payload,
    });
    this.retryIfWorthIt(request, response.status);
    const text = (await this.readBody(request, response)).toString("utf8");
    if (response.status >= 400) {
      // The backend's own error text stays in the proxy's log: it may name internals.
      this.options.logger.warn("upstream refused a request", {
        requestId: request.id,
        status: response.status,
        body: text.slice(0, 200),
      });
      throw new UnrecoverableError(`upstream answered ${response.status}`);
    }
    try {
      JSON.parse(text);
      return text === "" ? "null" : text;
    } catch {
      return JSON.stringify(text);
    }
  }

  private async call(
    request: HandlerRequest,
    url: string,
    init: RequestInit & { headers: Headers },
  ): Promise<Response> {
    const startedAt = performance.now();
    try {
      // decompress: false — the body is relayed as the upstream encoded it, with its Content-Encoding.
      const response = await this.send(url, {
        ...init,
        signal: request.signal,
        redirect: "manual",
        decompress: false,
      });
      // With every protection off, this one check is all they cost per call.
      if (this.watched) await this.afterCall(response, performance.now() - startedAt);
      return response;
    } catch (error) {
      if (error instanceof BackendPausedError) throw error;
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      const cut = timedOut || request.signal.aborted;
      this.options.observer?.observe(cut ? "timeout" : "failure", performance.now() - startedAt);
      throw this.transportFailure(request, error, timedOut ? "upstream timed out" : "upstream unreachable");
    }
  }

  /** Tells the observer (limit, breaker) how the call went; pauses the fleet if the backend asked. */
  private async afterCall(response: Response, ms: number): Promise<void> {
    this.options.observer?.observe(outcomeOf(response), ms);
    if (this.options.pauseOnRetryAfter) await this.pauseIfAsked(response);
  }

  /** 429 (Retry-After or a default second), or 503 with Retry-After: the backend did not run it. */
  private async pauseIfAsked(response: Response): Promise<void> {
    const status = response.status;
    if (status !== 429 && status !== 503) return;
    const asked = retryAfterMs(response.headers.get("retry-after"));
    if (status === 503 && asked === undefined) return;
    await response.body?.cancel().catch(() => {});
    throw new BackendPausedError(asked ?? defaultPauseMs, status);
  }

  /** The body within MAX_UPSTREAM_RESPONSE_BYTES (capped-body.ts); a connection lost while reading it is a transport failure. */
  private async readBody(request: HandlerRequest, response: Response): Promise<Buffer> {
    try {
      return await readCappedBody(response, this.options.maxResponseBytes);
    } catch (error) {
      if (error instanceof ResponseTooLargeError) throw error;
      throw this.transportFailure(request, error, "upstream connection lost while answering");
    }
  }

  /**
   * A failed connection: the client (and the dead letter) get `text` only, because the cause names
   * internal hosts, ports and addresses; the cause is logged for the operator. Retryable while the
   * request may be repeated; past the deadline the terminal answers `expired`.
   */
  private transportFailure(request: HandlerRequest, error: unknown, text: string): unknown {
    if (request.signal.aborted) return error;
    this.options.logger.warn(text, {
      requestId: request.id,
      attempt: request.attempt,
      cause: error instanceof Error ? error.message : String(error),
    });
    return this.mayRetry(request) ? new RetryableUpstreamError(text) : new UnrecoverableError(text);
  }

  private retryIfWorthIt(request: HandlerRequest, status: number): void {
    if (status >= 500 && this.mayRetry(request)) {
      throw new RetryableUpstreamError(`upstream answered ${status}`);
    }
  }

  /** Another attempt only for a repeatable request that has attempts left; the last one passes through. */
  private mayRetry(request: HandlerRequest): boolean {
    return request.retrySafe && request.attempt < this.options.maxDeliveries;
  }
}

/** How the backend's answer counts for the limit and the breaker (backend-signals.ts). */
export function outcomeOf(response: Response): CallOutcome {
  const status = response.status;
  if (status < 500 && status !== 429) return "ok";
  if (status === 429 || (status === 503 && response.headers.has("retry-after"))) return "overload";
  return "failure";
}
