import type { Logger, TracingConfig } from "@rsd/shared";
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
  endOnResponse,
  startTracing,
  type Tracing,
} from "@rsd/shared/tracing";
import { clientTraceparent } from "../http/client-trace.ts";
import { requestPath } from "../http/request-target.ts";

type Handle = (request: Request) => Response | Promise<Response>;

/**
 * The ingress's server spans: one per POST /api/requests and per /proxy/* request, the client's
 * `traceparent` as parent when it sent a valid one. The span's own traceparent is what the request
 * record carries to the proxies, so their spans hang below it. This module is imported only when
 * tracing is on (main.ts); with it off the routes are not wrapped at all.
 */
export class IngressTracing {
  /** The span of each /proxy/* request being handled, for the controller that builds its record. */
  private readonly traceparents = new WeakMap<Request, string>();

  constructor(private readonly tracing: Tracing) {}

  /** What a /proxy/* record carries: its server span, or the untraced hop (a request not wrapped). */
  readonly traceparentOf = (request: Request): string =>
    this.traceparents.get(request) ?? clientTraceparent(request);

  /**
   * POST /api/requests through Bun's router: every request gets a span, and the handler its
   * traceparent directly (the hot route does without the WeakMap).
   */
  submitRoute(handle: (request: Request, traceparent: string) => Response | Promise<Response>): Handle {
    return (request) => this.traced(request, "/api/requests", handle);
  }

  /** Everything else: only /proxy/* gets a span (health, docs and fleet reads are not traced). */
  appRoutes(handle: Handle): Handle {
    return (request) => {
      const path = requestPath(request.url);
      if (!path?.startsWith("/proxy/")) return handle(request);
      return this.traced(request, "/proxy/*", (traced, traceparent) => {
        this.traceparents.set(traced, traceparent);
        return handle(traced);
      });
    };
  }

  shutdown(timeoutMs: number): Promise<void> {
    return this.tracing.shutdown(timeoutMs);
  }

  private traced(
    request: Request,
    route: string,
    handle: (request: Request, traceparent: string) => Response | Promise<Response>,
  ): Response | Promise<Response> {
    const method = request.method;
    const span = this.tracing.startSpan({
      name: `${method} ${route}`,
      kind: "server",
      parent: request.headers.get("traceparent")?.trim().toLowerCase(),
    });
    // Most spans are dropped at a low sampling ratio: nothing more to do for them.
    if (!span.recording) return handle(request, span.traceparent);
    span.set(ATTR_HTTP_REQUEST_METHOD, method);
    span.set(ATTR_HTTP_ROUTE, route);
    span.set(ATTR_URL_PATH, requestPath(request.url));
    span.set(ATTR_URL_SCHEME, "http");
    return endOnResponse(span, () => handle(request, span.traceparent), 500);
  }
}

export async function startIngressTracing(config: TracingConfig, logger: Logger): Promise<IngressTracing> {
  return new IngressTracing(
    (await startTracing(config, (msg, fields) => logger.warn(msg, fields))) as Tracing,
  );
}
