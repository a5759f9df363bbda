import type { ForwardedResponse } from "@rsd/shared";
import type { RequestOutcome } from "../requests/outcome.ts";
import { present } from "../requests/presenter.ts";

/**
 * A forwarded request answers with the backend's own status, headers and body, byte for byte;
 * the gateway's own failures (502/503/504) keep the contract's JSON bodies.
 */
export function presentForwarded(outcome: RequestOutcome, headers: Record<string, string>): Response {
  if (
    outcome.kind !== "answered" ||
    outcome.reply.status !== "completed" ||
    outcome.reply.result === undefined
  ) {
    return present(outcome, headers);
  }
  const upstream = JSON.parse(outcome.reply.result) as ForwardedResponse;
  const responseHeaders = new Headers(upstream.headers);
  for (const [name, value] of Object.entries(headers)) responseHeaders.set(name, value);
  return new Response(upstream.body ? Buffer.from(upstream.body, "base64") : null, {
    status: upstream.status,
    headers: responseHeaders,
  });
}
