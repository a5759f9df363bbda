import type { Logger } from "@rsd/shared";
import { Elysia, ValidationError } from "elysia";
import { HttpError } from "./errors.ts";
import { json } from "./json-response.ts";

interface ValueErrorLike {
  path?: string;
  message?: string;
  summary?: string;
  schema?: { error?: unknown };
}

/**
 * One readable sentence from Elysia's validation error: where, and what was expected. A schema's
 * own `error` text wins; TypeBox's summary ("Property 'payload' is missing") comes next.
 */
function describeValidation(error: { all?: ValueErrorLike[]; type?: string }): string {
  const where = error.type ?? "request";
  const first = error.all?.[0];
  if (!first) return `invalid ${where}`;
  const custom = typeof first.schema?.error === "string" ? first.schema.error : undefined;
  return `${where}: ${custom ?? first.summary ?? first.message ?? "invalid value"}`;
}

/** The contract's JSON answer to a failure, by Elysia's error code; unexpected ones are logged, without internals. */
export function errorResponse(code: string | number, error: unknown, logger: Logger): Response {
  if (error instanceof HttpError) return json(error.status, { error: error.message }, error.headers);
  switch (code) {
    case "VALIDATION":
      return json(400, { error: describeValidation(error as never) });
    case "PARSE":
      return json(400, { error: "request body is not valid JSON" });
    case "NOT_FOUND":
      return json(404, { error: "no such route" });
    case "INVALID_COOKIE_SIGNATURE":
    case "INVALID_FILE_TYPE":
      return json(400, { error: "invalid request" });
    default:
      // The client gets no internals; the log keeps the stack, or the bug cannot be found.
      logger.error("unhandled error", {
        code,
        error,
        stack: error instanceof Error ? error.stack : undefined,
      });
      return json(500, { error: "internal error" });
  }
}

/** The same answer for an error thrown outside Elysia (a route Bun's router serves directly). */
export function thrownErrorResponse(error: unknown, logger: Logger): Response {
  return errorResponse(error instanceof ValidationError ? "VALIDATION" : "UNKNOWN", error, logger);
}

/** Maps every failure to a JSON body; unexpected ones are logged and answered without internals. */
export function errorPlugin(logger: Logger) {
  return new Elysia({ name: "errors" }).onError({ as: "global" }, ({ code, error }) =>
    errorResponse(code, error, logger),
  );
}
