import { continueTrace, endToEndHeaders, type ForwardedRequest, idempotentMethods } from "@rsd/shared";
import { Elysia } from "elysia";
import { clientAddressOf } from "../http/client-address.ts";
import type { ConnectionTimeouts } from "../http/connection-timeouts.ts";
import { BadRequestError } from "../http/errors.ts";
import { readBody } from "../http/json-body.ts";
import type { IdempotencyKeys } from "../requests/idempotency.ts";
import type { RequestService } from "../requests/service.ts";
import { presentForwarded } from "./presenter.ts";

export interface ForwardControllerOptions {
  service: RequestService;
  idempotency: IdempotencyKeys;
  /** A forwarded request keeps its connection past the idle timeout while it waits. */
  connections: ConnectionTimeouts;
  maxBodyBytes: number;
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
}

/** The optional per-request deadline of a forwarded request (the body belongs to the backend). */
const timeoutHeader = "x-timeout-ms";

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
  return new Elysia({ tags: ["proxy"] }).all(
    "/proxy/*",
    async ({ request }) => {
      const url = new URL(request.url);
      const timeoutMs = timeoutOf(request.headers, options.defaultTimeoutMs, options.maxTimeoutMs);
      const idempotencyKey = request.headers.get("idempotency-key") ?? undefined;
      if (idempotencyKey !== undefined) idempotency.validate(idempotencyKey);
      const body =
        request.method === "GET" || request.method === "HEAD"
          ? Buffer.alloc(0)
          : await readBody(request, options.maxBodyBytes);
      const traceparent = continueTrace(request.headers.get("traceparent") ?? undefined);

      const headers = endToEndHeaders(request.headers).filter(
        ([name]) => name !== timeoutHeader && name !== "traceparent",
      );
      const clientIp = clientAddressOf(request);
      const priorFor = request.headers.get("x-forwarded-for");
      headers.push(
        ["x-forwarded-for", [priorFor, clientIp].filter(Boolean).join(", ")],
        ["x-forwarded-proto", request.headers.get("x-forwarded-proto") ?? url.protocol.replace(":", "")],
        ["x-forwarded-host", request.headers.get("x-forwarded-host") ?? url.host],
        ["traceparent", traceparent],
      );
      const forwarded: ForwardedRequest = {
        method: request.method,
        path: url.pathname.slice("/proxy".length) || "/",
        query: url.search,
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
        ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
      });
      return presentForwarded(outcome, { traceparent });
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
