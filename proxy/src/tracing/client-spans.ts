import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  endOnResponse,
  isSampled,
  type Tracing,
} from "@rsd/shared/tracing";
import type { Send } from "../handlers/http.ts";

/**
 * `fetch` with an HTTP client span around it (semantic conventions for HTTP clients), child of the
 * traceparent the handler set (the attempt's span), and that header replaced by the client
 * span's own, so the backend continues the trace below it. `url.full` leaves out the query and any
 * user info: they may hold credentials. The span ends when the response headers arrive.
 */
export function tracedSend(tracing: Tracing): Send {
  return async (url, init) => {
    const parent = init.headers.get("traceparent") ?? undefined;
    if (tracing.followsParent && !isSampled(parent)) return await fetch(url, init);
    const target = new URL(url);
    const method = init.method ?? "GET";
    const span = tracing.startSpan({
      name: method,
      kind: "client",
      parent,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: method,
        [ATTR_SERVER_ADDRESS]: target.hostname,
        [ATTR_SERVER_PORT]: Number(target.port) || (target.protocol === "https:" ? 443 : 80),
        [ATTR_URL_FULL]: `${target.origin}${target.pathname}`,
      },
    });
    init.headers.set("traceparent", span.traceparent);
    return await endOnResponse(span, () => fetch(url, init), 400);
  };
}
