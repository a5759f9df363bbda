import {
  type DeadLetterEntry,
  type DeadLetterFilter,
  type DeadLetters,
  deadLetterBulkMax,
  deadLetterPageMax,
  isStreamEntryId,
  type Logger,
  replayUrgency,
} from "@rsd/shared";
import { Elysia } from "elysia";
import { BadRequestError, HttpError, UnavailableError } from "../http/errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { json } from "../http/json-response.ts";
import { bulkDoc, entryDoc, listDoc, purgeDoc, replayDoc } from "./dead-letter-docs.ts";

export interface DeadLetterRoutesOptions {
  deadLetters: DeadLetters;
  /** The admin key's name behind a request (the access check already let it through). */
  adminName: (request: Request) => string;
  logger: Logger;
}

/** What the API shows of a dead letter; the payload only when one letter is asked for. */
export function presentDeadLetter(entry: DeadLetterEntry, withPayload: boolean) {
  return {
    entryId: entry.id,
    requestId: entry.requestId ?? null,
    error: entry.error,
    attempts: entry.attempts ?? null,
    failedAt: entry.failedAt,
    tenant: entry.tenant ?? null,
    urgency: replayUrgency(entry),
    kind: entry.request?.kind ?? null,
    size: Buffer.byteLength(entry.payload ?? ""),
    replayable: entry.request !== undefined,
    ...(withPayload ? { payload: entry.payload ?? null } : {}),
  };
}

function entryIdOf(value: string): string {
  if (!isStreamEntryId(value)) throw new BadRequestError("entryId must be a stream entry id: <ms>-<seq>");
  return value;
}

function countOf(value: string | undefined): number {
  if (value === undefined) return 20;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > deadLetterPageMax)
    throw new BadRequestError(`count must be an integer 1…${deadLetterPageMax}`);
  return Number(value);
}

/** Redis trouble is a 503 the operator may retry; our own refusals pass through. */
async function redisCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new UnavailableError("Redis is unavailable; retry later", 1);
  }
}

const bulkKeys = new Set(["errorContains", "olderThanS", "all", "max", "after"]);

/** The body of a bulk call: a filter (at least one condition, or `all: true`), `max`, `after`. */
export function parseBulkBody(body: unknown): { filter: DeadLetterFilter; max: number; after?: string } {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new BadRequestError("request body must be a JSON object");
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !bulkKeys.has(key));
  if (unknown) throw new BadRequestError(`unknown property '${unknown}'`);
  const { errorContains, olderThanS, all, max = 100, after } = fields;
  const filter: DeadLetterFilter = {};
  if (errorContains !== undefined) {
    if (typeof errorContains !== "string" || errorContains.length < 1 || errorContains.length > 200)
      throw new BadRequestError("errorContains must be a string of 1…200 characters");
    filter.errorContains = errorContains;
  }
  if (olderThanS !== undefined) {
    if (!Number.isSafeInteger(olderThanS) || (olderThanS as number) < 0)
      throw new BadRequestError("olderThanS must be an integer ≥ 0");
    filter.olderThanMs = (olderThanS as number) * 1000;
  }
  if (all !== undefined && all !== true) throw new BadRequestError("all may only be true");
  if (filter.errorContains === undefined && filter.olderThanMs === undefined && all !== true)
    throw new BadRequestError("give errorContains, olderThanS, or all: true");
  if (!Number.isSafeInteger(max) || (max as number) < 1 || (max as number) > deadLetterBulkMax)
    throw new BadRequestError(`max must be an integer 1…${deadLetterBulkMax}`);
  if (after !== undefined && (typeof after !== "string" || !isStreamEntryId(after)))
    throw new BadRequestError("after must be a stream entry id: <ms>-<seq>");
  return { filter, max: max as number, ...(after === undefined ? {} : { after: after as string }) };
}

/** The dead-letter API under /api/admin/dead-letters. */
export function deadLetterRoutes({ deadLetters, adminName, logger }: DeadLetterRoutesOptions) {
  const bulk =
    (action: "replay" | "purge") =>
    async ({ request }: { request: Request }) => {
      const { filter, max, after } = parseBulkBody(await readJsonBody(request, 4096));
      const outcome = await redisCall(() =>
        deadLetters.bulk({ action, filter, max, ...(after ? { after } : {}) }),
      );
      logger.info(`admin: dead letters bulk ${action}`, {
        admin: adminName(request),
        filter,
        max,
        ...outcome,
      });
      return outcome;
    };
  return new Elysia({ prefix: "/api/admin/dead-letters", tags: ["admin"] })
    .get(
      "",
      async ({ query }) => {
        const count = countOf(query.count);
        const after = query.after === undefined ? undefined : entryIdOf(query.after);
        const [page, total] = await redisCall(() =>
          Promise.all([deadLetters.page({ count, ...(after ? { after } : {}) }), deadLetters.count()]),
        );
        return {
          total,
          entries: page.entries.map((entry) => presentDeadLetter(entry, false)),
          next: page.next,
        };
      },
      listDoc,
    )
    .post("/bulk-replay", bulk("replay"), bulkDoc("replay"))
    .post("/bulk-purge", bulk("purge"), bulkDoc("purge"))
    .get(
      "/:entryId",
      async ({ params }) => {
        const entry = await redisCall(() => deadLetters.get(entryIdOf(params.entryId)));
        if (!entry) return json(404, { error: "no such dead letter" });
        return presentDeadLetter(entry, true);
      },
      entryDoc,
    )
    .post(
      "/:entryId/replay",
      async ({ params, request }) => {
        const entryId = entryIdOf(params.entryId);
        const outcome = await redisCall(() => deadLetters.replay(entryId));
        if (outcome.status === "missing") return json(404, { error: "no such dead letter" });
        if (outcome.status === "not-replayable")
          return json(409, {
            error:
              "this dead letter holds no request to replay (an older proxy wrote it, or it was not a request); delete it instead",
          });
        logger.info("admin: dead letter replayed", {
          admin: adminName(request),
          entryId,
          requestId: outcome.requestId,
        });
        return { entryId, requestId: outcome.requestId, status: "replayed" as const };
      },
      replayDoc,
    )
    .delete(
      "/:entryId",
      async ({ params, request }) => {
        const entryId = entryIdOf(params.entryId);
        const removed = await redisCall(() => deadLetters.remove([entryId]));
        if (removed === 0) return json(404, { error: "no such dead letter" });
        logger.info("admin: dead letter deleted", { admin: adminName(request), entryId });
        return { entryId, status: "deleted" as const };
      },
      purgeDoc,
    );
}
