import { randomBytes } from "node:crypto";

const traceparentPattern = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;

/**
 * The W3C trace context of a request: the client's when it sent a valid one, otherwise a new
 * trace. The ingress is a hop of its own, so it continues the trace with a fresh span id.
 */
export function continueTrace(header: string | undefined): string {
  const match = header ? traceparentPattern.exec(header.trim().toLowerCase()) : null;
  const traceId =
    match && !/^0+$/.test(match[1] as string) ? (match[1] as string) : randomBytes(16).toString("hex");
  return `00-${traceId}-${randomBytes(8).toString("hex")}-01`;
}

/** The trace id part of a traceparent, for log lines. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  return traceparent ? traceparent.split("-")[1] : undefined;
}
