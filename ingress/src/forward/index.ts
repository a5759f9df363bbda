import { endToEndHeaders, type ForwardedRequest, idempotentMethods } from "@rsd/shared";
import { Elysia } from "elysia";
import { clientAddressOf } from "../http/client-address.ts";
import { clientTraceparent } from "../http/client-trace.ts";
import type { ConnectionTimeouts } from "../http/connection-timeouts.ts";
import { BadRequestError } from "../http/errors.ts";
import { readBody } from "../http/json-body.ts";
import { pathStart } from "../http/request-target.ts";
import type { IdempotencyKeys } from "../requests/idempotency.ts";
import { type InflightBudget, withinBudget } from "../requests/inflight-budget.ts";
import type { RequestService } from "../requests/service.ts";
import { countedAnswer, type TenantRequestMetrics } from "../tenants/tenant-metrics.ts";
import type { TenantResolver } from "../tenants/tenant-resolver.ts";
import { presentForwarded } from "./presenter.ts";

export interface ForwardControllerOptions {
  service: RequestService;
  idempotency: IdempotencyKeys;
  /** A forwarded request keeps its connection past the idle timeout while it waits. */
  connections: ConnectionTimeouts;
  /** Room for requests in progress (MAX_INFLIGHT, MAX_INFLIGHT_BYTES). */
  budget: InflightBudget;
  /**
   * API keys are on: the client's `Authorization` is the gateway's own credential, and it is
   * never stored in Redis nor sent to the backend (backend credentials: UPSTREAM_HEADERS).
   */
  apiKeysRequired: boolean;
  /** Whose request it is (API key or X-Tenant), and rsd_tenant_requests_total. */
  tenants: TenantResolver;
  tenantMetrics: TenantRequestMetrics;
  maxBodyBytes: number;
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
  /** The traceparent the request goes on with (its server span when tracing is on); default: clientTraceparent. */
  traceOf?: (request: Request) => string;
}

/** The optional per-request deadline of a forwarded request (the body belongs to the backend). */
const timeoutHeader = "x-timeout-ms";

/**
 * Headers the gateway sets itself, once each, whatever the client sent: its own deadline and
 * trace headers, and the X-Forwarded-* set (a client's X-Forwarded-For is kept as the chain before
 * the gateway's hop; its -Host and -Proto, and any Forwarded, are not believed).
 */
const gatewayHeaders = new Set([
  timeoutHeader,
  "traceparent",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "forwarded",
  // The gateway's own scheduling hints: they selected the tenant and lane, the backend gets neither.
  "x-tenant",
]);
/** The gateway's own credentials, when API keys are on: never stored, never forwarded. */
const gatewayCredentials = new Set(["authorization", "proxy-authorization"]);

function timeoutOf(headers: Headers, fallback: number, max: number): number {
  const value = headers.get(timeoutHeader);
  if (value === null) return fallback;
  const timeoutMs = Number(value);
  if (!/^\d+$/.test(value) || timeoutMs < 1 || timeoutMs > max) {
    throw new BadRequestError(`${timeoutHeader} must be an integer from 1 to ${max} (MAX_TIMEOUT_MS)`);
  }
  return timeoutMs;
}

/**
 * ANY /proxy/* — transparent forwarding: method, path after /proxy, query, body and end-to-end
 * headers travel through the stream to a proxy's `http` handler, which calls UPSTREAM_URL; the
 * client gets the backend's status, headers and body.
 */
export function forwardController(options: ForwardControllerOptions) {
  const { service, idempotency } = options;
  const traceOf = options.traceOf ?? clientTraceparent;
  return new Elysia({ tags: ["proxy"] }).all(
    "/proxy/*",
    ({ request }) => {
      const tenant = options.tenants.of(request);
      return countedAnswer(options.tenantMetrics, tenant, () =>
        withinBudget(options.budget, request, async () => {
          const url = new URL(request.url);
          // The path and query as the client sent them, not as URL parsing rewrites them (it resolves
          // `%2e%2e` segments): the proxy builds and checks the upstream URL itself (upstream-url.ts).
          const raw = request.url;
          const start = pathStart(raw);
          const queryAt = raw.indexOf("?", start);
          const rawPath = queryAt < 0 ? raw.slice(start) : raw.slice(start, queryAt);
          const timeoutMs = timeoutOf(request.headers, options.defaultTimeoutMs, options.maxTimeoutMs);
          const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
          if (idempotencyKey !== undefined) idempotency.validate(idempotencyKey);
          const body =
            request.method === "GET" || request.method === "HEAD"
              ? Buffer.alloc(0)
              : await readBody(request, options.maxBodyBytes);
          const traceparent = traceOf(request);

          const headers = endToEndHeaders(request.headers).filter(
            ([name]) =>
              !gatewayHeaders.has(name) && !(options.apiKeysRequired && gatewayCredentials.has(name)),
          );
          const path = rawPath.slice("/proxy".length) || "/";
          const query = queryAt < 0 ? "" : raw.slice(queryAt);
          // The request as the client made it, before the gateway adds what differs per attempt
          // (trace span, client address): the same request with the same key is the same request.
          const identity =
            idempotencyKey === undefined
              ? undefined
              : JSON.stringify([request.method, path, query, headers, body.toString("base64")]);
          const clientIp = clientAddressOf(request);
          // Headers.get joins repeated headers with ", ": one chain, whatever the client split it into.
          const priorFor = request.headers.get("x-forwarded-for");
          headers.push(
            ["x-forwarded-for", [priorFor, clientIp].filter(Boolean).join(", ")],
            ["x-forwarded-proto", url.protocol.replace(":", "")],
            ["x-forwarded-host", url.host],
            ["traceparent", traceparent],
          );
          const forwarded: ForwardedRequest = {
            method: request.method,
            path,
            query,
            headers,
            body: body.toString("base64"),
          };
          options.connections.holdUntil(request, Date.now() + timeoutMs);
          const outcome = await service.submit({
            payload: JSON.stringify(forwarded),
            kind: "http",
            retrySafe: idempotentMethods.has(request.method),
            timeoutMs,
            async: false,
            traceparent,
            tenant,
            urgency: options.tenants.urgencyOf(request),
            ...(idempotencyKey !== undefined ? { idempotencyKey, idempotencyHashInput: identity } : {}),
          });
          return presentForwarded(outcome, { traceparent });
        }),
      );
    },
    {
      parse: "none",
      detail: {
        summary: "Forward any request to the backend through a terminal",
        description:
          "Method, path after /proxy, query, body (up to MAX_BODY_BYTES, binary-safe) and end-to-end headers " +
          "reach UPSTREAM_URL through the queue (proxies with HANDLER=http); the answer is the backend's status, " +
          "headers and body. Hop-by-hop headers are dropped; X-Forwarded-For/Proto/Host are added. Optional " +
          "`X-Timeout-Ms` sets the deadline. Upstream 5xx and connection errors are retried only for idempotent " +
          "methods or with an Idempotency-Key; an unreachable upstream is 502, a slow one 504, both JSON.",
        responses: {
          200: { description: "The backend's answer, whatever its status" },
          502: { description: "The backend was unreachable or failed on every attempt (JSON)" },
          503: { description: "Overloaded or Redis unavailable (JSON, Retry-After)" },
          504: { description: "The deadline passed (JSON)" },
        },
      },
    },
  );
}
