import { type Logger, traceIdOf } from "@rsd/shared";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ValidationError } from "elysia";
import { clientTraceparent } from "../http/client-trace.ts";
import type { ConnectionTimeouts } from "../http/connection-timeouts.ts";
import { thrownErrorResponse } from "../http/error-plugin.ts";
import { readJsonBody } from "../http/json-body.ts";
import type { TenantRequestMetrics } from "../tenants/tenant-metrics.ts";
import type { TenantResolver } from "../tenants/tenant-resolver.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import type { InflightBudget } from "./inflight-budget.ts";
import { submitBody } from "./model.ts";
import type { RequestOutcome } from "./outcome.ts";
import { present } from "./presenter.ts";
import type { RequestService } from "./service.ts";

export interface SubmitOptions {
  service: RequestService;
  idempotency: IdempotencyKeys;
  /** A synchronous request keeps its connection past the idle timeout while it waits. */
  connections: ConnectionTimeouts;
  /** Room for requests in progress (MAX_INFLIGHT, MAX_INFLIGHT_BYTES). */
  budget: InflightBudget;
  logger: Logger;
  /** Whose request it is (API key or X-Tenant), and rsd_tenant_requests_total. */
  tenants: TenantResolver;
  tenantMetrics: TenantRequestMetrics;
  maxBodyBytes: number;
  maxTimeoutMs: number;
  defaultTimeoutMs: number;
}

function wantsAsync(prefer: string | null): boolean {
  return prefer !== null && /(^|[\s,;])respond-async([\s,;]|$)/i.test(prefer);
}

/**
 * POST /api/requests, from the raw Request to the Response: the body read within its limit and
 * checked against the schema that also documents it (an invalid one throws Elysia's
 * ValidationError, so the message is the same wherever it is answered), put on the stream,
 * answered. A failure is answered here with the error plugin's own mapping, so the answer is the
 * same whichever way the request came in (Bun's router or the Elysia app, see main.ts).
 *
 * Why not Elysia's own parse hook and `body` validation: they cost about 2 µs of the ingress's
 * ~20 µs of CPU per request (docs/architecture.md).
 */
export function submitHandler(
  options: SubmitOptions,
): (request: Request, traceparent?: string) => Promise<Response> {
  const { service, idempotency, logger } = options;
  const validator = TypeCompiler.Compile(submitBody(options.maxTimeoutMs));

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

  // `traceparent`: the ingress's server span, when tracing is on (tracing/server-spans.ts).
  return async (request, traceparent) => {
    let reserved = -1;
    let tenant: string | undefined;
    let response: Response;
    try {
      reserved = options.budget.acquire(request);
      tenant = options.tenants.of(request);
      response = await answer(request, tenant, traceparent ?? clientTraceparent(request));
    } catch (error) {
      response = thrownErrorResponse(error, logger);
    } finally {
      if (reserved >= 0) options.budget.release(reserved);
    }
    options.tenantMetrics.count(tenant, response.status);
    return response;
  };

  async function answer(
    request: Request,
    tenant: string | undefined,
    traceparent: string,
  ): Promise<Response> {
    const body = await readJsonBody(request, options.maxBodyBytes);
    if (!validator.Check(body)) throw new ValidationError("body", validator as never, body);
    const headers = request.headers;
    const idempotencyKey = headers.get("idempotency-key") ?? undefined;
    if (idempotencyKey !== undefined) idempotency.validate(idempotencyKey);
    const timeoutMs = body.timeoutMs ?? options.defaultTimeoutMs;
    const async = wantsAsync(headers.get("prefer"));
    if (!async) options.connections.holdUntil(request, Date.now() + timeoutMs);
    const outcome = await service.submit({
      payload: JSON.stringify(body.payload ?? null),
      kind: "json",
      retrySafe: false,
      timeoutMs,
      async,
      traceparent,
      idempotencyKey,
      tenant,
      urgency: options.tenants.urgencyOf(request),
    });
    logOutcome(outcome, traceparent);
    return present(outcome, { traceparent });
  }
}
