import { Type } from "@sinclair/typebox";
import { t } from "elysia";

/** The body of POST /api/requests; the same schema validates requests and documents them. */
export function submitBody(maxTimeoutMs: number) {
  return t.Object(
    {
      payload: t.Unknown({ description: "Any JSON value; the handler receives it as is." }),
      // TypeBox's own Integer: Elysia's t.Integer also accepts numeric strings, and "100" is not a number.
      timeoutMs: t.Optional(
        Type.Integer({
          minimum: 1,
          maximum: maxTimeoutMs,
          error: `timeoutMs must be an integer from 1 to ${maxTimeoutMs} (MAX_TIMEOUT_MS)`,
          description: "Deadline for the whole request, from arrival; defaults to REQUEST_TIMEOUT_MS.",
        }),
      ),
    },
    { additionalProperties: false },
  );
}

/** The optional headers of POST /api/requests, for the OpenAPI document (read in the handler). */
export const submitHeaderParameters = [
  {
    name: "prefer",
    in: "header" as const,
    required: false,
    schema: { type: "string" as const },
    description: "`respond-async` answers 202 at once; poll the Location.",
  },
  {
    name: "idempotency-key",
    in: "header" as const,
    required: false,
    schema: { type: "string" as const, maxLength: 200 },
    description: "Same key → same request id and outcome; never enqueued twice.",
  },
  {
    name: "traceparent",
    in: "header" as const,
    required: false,
    schema: { type: "string" as const },
    description: "W3C trace context; returned in the response.",
  },
  {
    name: "priority",
    in: "header" as const,
    required: false,
    schema: { type: "string" as const },
    description: "RFC 9218 urgency `u=0` (first) … `u=7`, default 3; malformed values mean 3.",
  },
  {
    name: "x-tenant",
    in: "header" as const,
    required: false,
    schema: { type: "string" as const, pattern: "^[a-z0-9][a-z0-9_-]{0,31}$" },
    description: "The tenant, only when no API keys are configured (unauthenticated); default `default`.",
  },
];

const requestId = t.String({ format: "uuid", description: "UUIDv7 request id" });

export const completedResponse = t.Object({
  id: requestId,
  status: t.Literal("completed"),
  result: t.Unknown({ description: "What the handler returned; the simulator echoes `{echo: payload}`." }),
  pod: t.String({ description: "The proxy pod that processed it." }),
  terminal: Type.Integer({ description: "The terminal slot in that pod, 0…TERMINALS−1." }),
  queuedMs: t.Number(),
  processingMs: t.Number(),
  totalMs: t.Number(),
});

export const pendingResponse = t.Object({ id: requestId, status: t.Literal("pending") });
export const failedResponse = t.Object({ id: requestId, status: t.Literal("failed"), error: t.String() });
export const timeoutResponse = t.Object({ id: requestId, status: t.Literal("timeout") });
export const errorResponse = t.Object({ error: t.String({ description: "What is wrong." }) });
