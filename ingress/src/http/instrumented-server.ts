import type { Server } from "bun";
import type { IngressMetrics } from "../metrics.ts";
import { rememberClientAddress } from "./client-address.ts";
import { checkRequestLimits } from "./request-limits.ts";

/** Paths whose requests count as API traffic in the metrics (not health checks and scrapes). */
function isApiPath(url: string): boolean {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  return url.startsWith("/api/", pathStart) || url.startsWith("/proxy/", pathStart);
}

/**
 * Wraps the app's fetch handler with the request metrics: every API answer is counted by
 * status and timed, whatever produced it (validation, shedding, a reply, a timeout). API
 * requests may wait up to their deadline, so Bun's idle timeout is lifted for them: the
 * gateway's own deadline always answers first.
 */
export function instrument(
  handle: (request: Request) => Response | Promise<Response>,
  metrics: IngressMetrics,
): (request: Request, server: Server<undefined>) => Promise<Response> {
  return async (request, server) => {
    const url = request.url; // read once: each read of request.url makes a new string
    if (!isApiPath(url)) return checkRequestLimits(request, url) ?? (await handle(request));
    server.timeout(request, 0);
    if (url.includes("/proxy/")) rememberClientAddress(request, server);
    const started = performance.now();
    metrics.inflightRequests++;
    let status = 500;
    try {
      const response = checkRequestLimits(request, url) ?? (await handle(request));
      status = response.status;
      return response;
    } finally {
      metrics.inflightRequests--;
      metrics.answered(status);
      metrics.duration.observe((performance.now() - started) / 1000);
    }
  };
}
