import { Elysia, t } from "elysia";
import { BadRequestError } from "../http/errors.ts";
import { json } from "../http/json-response.ts";
import { countedAnswer, type TenantRequestMetrics } from "../tenants/tenant-metrics.ts";
import type { TenantResolver } from "../tenants/tenant-resolver.ts";
import {
  completedResponse,
  errorResponse,
  failedResponse,
  pendingResponse,
  submitBody,
  submitHeaderParameters,
  timeoutResponse,
} from "./model.ts";
import { present } from "./presenter.ts";
import type { RequestService } from "./service.ts";

export interface RequestsControllerOptions {
  service: RequestService;
  /** POST /api/requests, from the raw request (submit.ts). */
  submit: (request: Request) => Promise<Response>;
  maxTimeoutMs: number;
  /** A stored result is read back only by the tenant that sent the request. */
  tenants: TenantResolver;
  tenantMetrics: TenantRequestMetrics;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** POST /api/requests and GET /api/requests/:id. */
export function requestsController(options: RequestsControllerOptions) {
  const { service, submit } = options;

  return new Elysia({ prefix: "/api/requests", tags: ["requests"] })
    .post(
      "",
      // The handler reads and checks the body itself (submit.ts), so Elysia does not parse it;
      // the schema still documents it.
      ({ request }) => submit(request),
      {
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
          requestBody: {
            required: true,
            content: { "application/json": { schema: submitBody(options.maxTimeoutMs) as never } },
          },
          summary: "Submit a request and wait for its reply",
          description:
            "Puts the request on the Redis stream and answers with the proxy's reply, or 504 at the deadline. " +
            "With `Prefer: respond-async` it answers 202 at once with a Location to poll.",
        },
      },
    )
    .get(
      "/:id",
      ({ params, request }) => {
        const tenant = options.tenants.of(request);
        return countedAnswer(options.tenantMetrics, tenant, async () => {
          if (!uuidPattern.test(params.id)) throw new BadRequestError("id must be a UUID");
          const outcome = await service.status(params.id, tenant);
          // Another tenant's id answers exactly like an unknown one: nothing tells the two apart.
          if (!outcome) return json(404, { error: "unknown request id, or its result has expired" });
          return present(outcome);
        });
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
