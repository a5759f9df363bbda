/** The OpenAPI descriptions of the admin routes (the handlers validate by hand, see dead-letter-routes.ts). */

const error = { type: "object", properties: { error: { type: "string" } }, required: ["error"] };
const errorContent = { "application/json": { schema: error } };
const refusals = {
  400: { description: "a parameter is invalid", content: errorContent },
  401: { description: "no admin key, or a wrong one", content: errorContent },
  403: { description: "a client key: it does not open the console", content: errorContent },
  503: { description: "Redis is unavailable", content: errorContent },
};
const entryIdParameter = {
  name: "entryId",
  in: "path",
  required: true,
  description: "The dead letter's id in the dead-letter stream, `<ms>-<seq>`",
  schema: { type: "string", pattern: "^\\d{1,20}-\\d{1,20}$" },
};
const deadLetter = {
  type: "object",
  properties: {
    entryId: { type: "string" },
    requestId: { type: ["string", "null"] },
    error: { type: "string", description: "the last error" },
    attempts: { type: ["integer", "null"] },
    failedAt: { type: "integer", description: "epoch ms" },
    tenant: { type: ["string", "null"] },
    urgency: {
      type: "integer",
      minimum: 0,
      maximum: 7,
      description: "the urgency a replay gets with TENANT_LANES=on: the lane it was read from, else 3",
    },
    kind: { type: ["string", "null"], enum: ["json", "http", null] },
    size: { type: "integer", description: "payload bytes" },
    replayable: { type: "boolean" },
    payload: { type: ["string", "null"], description: "the payload as JSON text (one letter only)" },
  },
};
/** Plain OpenAPI 3.1 objects (nullable types as arrays), which Elysia's 3.0 typings do not describe. */
const doc = (detail: object) => ({ detail: detail as never });
const json = (schema: unknown) => ({ "application/json": { schema } });
const security = [{ adminKey: [] }];

export const listDoc = doc({
  summary: "Dead letters, newest first",
  security,
  parameters: [
    { name: "count", in: "query", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
    {
      name: "after",
      in: "query",
      description: "the `next` of the previous page: letters older than this entry",
      schema: { type: "string", pattern: "^\\d{1,20}-\\d{1,20}$" },
    },
  ],
  responses: {
    200: {
      description: "a page",
      content: json({
        type: "object",
        properties: {
          total: { type: "integer" },
          entries: { type: "array", items: deadLetter },
          next: { type: ["string", "null"] },
        },
      }),
    },
    ...refusals,
  },
});

export const entryDoc = doc({
  summary: "One dead letter, with its payload",
  security,
  parameters: [entryIdParameter],
  responses: {
    200: { description: "the letter", content: json(deadLetter) },
    404: { description: "no such letter", content: errorContent },
    ...refusals,
  },
});

export const replayDoc = doc({
  summary: "Replay a dead letter",
  description:
    "Re-enqueues the request with a fresh attempt count and a fresh deadline (as long as the first one). " +
    "Its stored outcome, if it keeps one, turns back to pending and follows the new attempt. " +
    "The letter is deleted once the request is enqueued.",
  security,
  parameters: [entryIdParameter],
  responses: {
    200: {
      description: "replayed",
      content: json({
        type: "object",
        properties: {
          entryId: { type: "string" },
          requestId: { type: "string" },
          status: { const: "replayed" },
        },
      }),
    },
    404: { description: "no such letter", content: errorContent },
    409: { description: "the letter holds no request to replay", content: errorContent },
    ...refusals,
  },
});

export const purgeDoc = doc({
  summary: "Delete a dead letter",
  security,
  parameters: [entryIdParameter],
  responses: {
    200: {
      description: "deleted",
      content: json({
        type: "object",
        properties: { entryId: { type: "string" }, status: { const: "deleted" } },
      }),
    },
    404: { description: "no such letter", content: errorContent },
    ...refusals,
  },
});

export function bulkDoc(action: "replay" | "purge") {
  return doc({
    summary:
      action === "replay"
        ? "Replay the dead letters that match a filter"
        : "Delete the dead letters that match a filter",
    description:
      "Oldest first, at most `max` letters and at most 5000 read per call; call again with `after` = `next` to go on.",
    security,
    requestBody: {
      required: true,
      content: json({
        type: "object",
        additionalProperties: false,
        properties: {
          errorContains: { type: "string", minLength: 1, maxLength: 200, description: "case-insensitive" },
          olderThanS: { type: "integer", minimum: 0 },
          all: { const: true, description: "no condition: every letter" },
          max: { type: "integer", minimum: 1, maximum: 1000, default: 100 },
          after: { type: "string", pattern: "^\\d{1,20}-\\d{1,20}$" },
        },
      }),
    },
    responses: {
      200: {
        description: "what was done",
        content: json({
          type: "object",
          properties: {
            scanned: { type: "integer" },
            matched: { type: "integer" },
            done: { type: "integer" },
            skipped: { type: "integer" },
            next: { type: ["string", "null"] },
          },
        }),
      },
      413: { description: "body over 4096 bytes", content: errorContent },
      ...refusals,
    },
  });
}
