import { continueTrace, type Logger, traceIdOf } from "@rsd/shared";
import { Elysia, t } from "elysia";
import { BadRequestError } from "../http/errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { json } from "../http/json-response.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import {
  completedResponse,
  errorResponse,
  failedResponse,
  pendingResponse,
  submitBody,
  submitHeaderParameters,
  timeoutResponse,
} from "./model.ts";
import type { RequestOutcome } from "./outcome.ts";
import { present } from "./presenter.ts";
import type { RequestService } from "./service.ts";

export interface RequestsControllerOptions {
  service: RequestService;
  idempotency: IdempotencyKeys;
  logger: Logger;
  maxBodyBytes: number;
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function wantsAsync(prefer: string | undefined): boolean {
  return prefer !== undefined && /(^|[\s,;])respond-async([\s,;]|$)/i.test(prefer);
}

/** POST /api/requests and GET /api/requests/:id. */
export function requestsController(options: RequestsControllerOptions) {
  const { service, idempotency, logger } = options;

  const logOutcome = (outcome: RequestOutcome, traceparent: string) => {
    if (!logger.enabled("info")) return;
    const id = outcome.kind === "answered" ? outcome.reply.id : outcome.id;
    const status = outcome.kind === "answered" ? outcome.reply.status : outcome.kind;
    const fields: Record<string, unknown> = {
      requestId: id,
      traceId: traceIdOf(traceparent),
      outcome: status,
    };
    if (outcome.kind === "answered") {
      fields.totalMs = outcome.totalMs;
      fields.proxyPod = outcome.reply.pod;
    }
    logger.info("request answered", fields);
  };

  return new Elysia({ prefix: "/api/requests", tags: ["requests"] })
    .post(
      "",
      async ({ body, request }) => {
        // Headers are read straight from the request: asking Elysia for a validated `headers`
        // object copies every header of every request, and these three are checked here anyway.
        const headers = request.headers;
        const traceparent = continueTrace(headers.get("traceparent") ?? undefined);
        const idempotencyKey = headers.get("idempotency-key") ?? undefined;
        if (idempotencyKey !== undefined) idempotency.validate(idempotencyKey);
        const outcome = await service.submit({
          payload: JSON.stringify(body.payload ?? null),
          kind: "json",
          retrySafe: false,
          timeoutMs: body.timeoutMs ?? options.defaultTimeoutMs,
          async: wantsAsync(headers.get("prefer") ?? undefined),
          traceparent,
          ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
        });
        logOutcome(outcome, traceparent);
        return present(outcome, { traceparent });
      },
      {
        // The bounded reader always answers; "json" after it only tells the OpenAPI document the media type.
        parse: [({ request }) => readJsonBody(request, options.maxBodyBytes), "json"],
        body: submitBody(options.maxTimeoutMs),
        response: {
          200: completedResponse,
          202: pendingResponse,
          400: errorResponse,
          413: errorResponse,
          422: errorResponse,
          502: failedResponse,
          503: errorResponse,
          504: timeoutResponse,
        },
        detail: {
          parameters: submitHeaderParameters,
          summary: "Submit a request and wait for its reply",
          description:
            "Puts the request on the Redis stream and answers with the proxy's reply, or 504 at the deadline. " +
            "With `Prefer: respond-async` it answers 202 at once with a Location to poll.",
        },
      },
    )
    .get(
      "/:id",
      async ({ params }) => {
        if (!uuidPattern.test(params.id)) throw new BadRequestError("id must be a UUID");
        const outcome = await service.status(params.id);
        if (!outcome) return json(404, { error: "unknown request id, or its result has expired" });
        return present(outcome);
      },
      {
        params: t.Object({ id: t.String({ maxLength: 64 }) }),
        response: {
          200: completedResponse,
          202: pendingResponse,
          404: errorResponse,
          502: failedResponse,
          504: timeoutResponse,
        },
        detail: { summary: "The stored outcome of an async or idempotent request" },
      },
    );
}
