import type { Server } from "bun";
import type { IngressMetrics } from "../metrics.ts";
import { rememberClientAddress } from "./client-address.ts";
import type { ConnectionTimeouts } from "./connection-timeouts.ts";
import { checkRequestLimits } from "./request-limits.ts";
import { isClientTraffic, missingHost, pathStart } from "./request-target.ts";

export interface InstrumentOptions {
  metrics: IngressMetrics;
  connections: ConnectionTimeouts;
}

/**
 * Wraps the app's fetch handler (and Bun's native route) with what every request gets first:
 * a request without a usable Host header is refused (see request-target.ts), oversized URLs and
 * header sets are refused, and every API answer is counted by status and timed, whatever
 * produced it (validation, shedding, a reply, a timeout). A handler that waits for a reply lifts
 * the idle timeout for the wait (ConnectionTimeouts.holdUntil); it is restored here once the
 * answer is ready, so the keep-alive connection is idle-limited again.
 */
export function instrument(
  handle: (request: Request) => Response | Promise<Response>,
  { metrics, connections }: InstrumentOptions,
): (request: Request, server: Server<undefined>) => Promise<Response> {
  return async (request, server) => {
    const url = request.url; // read once: each read of request.url makes a new string
    const start = pathStart(url);
    if (start < 0) return missingHost();
    if (!isClientTraffic(url, start)) return checkRequestLimits(request, url) ?? (await handle(request));
    if (url.startsWith("/proxy/", start)) rememberClientAddress(request, server);
    const started = performance.now();
    metrics.inflightRequests++;
    let status = 500;
    try {
      const response = checkRequestLimits(request, url) ?? (await handle(request));
      status = response.status;
      return response;
    } finally {
      connections.release(request);
      metrics.inflightRequests--;
      metrics.answered(status);
      metrics.duration.observe((performance.now() - started) / 1000);
    }
  };
}
