/**
 * The two messages of the protocol and their encoding as Redis Stream fields. Field names are
 * short because they are repeated in every stream entry.
 */

/** A request as it travels on the request stream. */
export interface RequestMessage {
  id: string;
  /** The reply stream of the ingress waiting for the answer. */
  replyTo: string;
  /** Absolute deadline, epoch ms: after it nobody waits for the answer. */
  deadline: number;
  /** When the ingress first enqueued it, epoch ms (kept across retries). */
  enqueuedAt: number;
  /** The client's payload, as JSON text (kept as text: the proxy forwards it, it does not need it parsed). */
  payload: string;
  /** 1 on the first delivery; a retry or a reclaim re-enqueues with attempt + 1. */
  attempt: number;
  /** Seconds to keep the outcome under the result key (async / idempotent requests), 0 = not stored. */
  resultTtlS: number;
  /** W3C trace context, when the client sent one or the ingress started one. */
  traceparent?: string;
  /** `json`: a payload from POST /api/requests; `http`: a ForwardedRequest from ANY /proxy/*. */
  kind: RequestKind;
  /** The client allows repeating it against the backend (idempotent method or an Idempotency-Key). */
  retrySafe: boolean;
}

export type RequestKind = "json" | "http";

export type ReplyStatus = "completed" | "failed" | "expired";

/** The answer a proxy writes to the reply stream (and, when asked, to the result key). */
export interface ReplyMessage {
  id: string;
  status: ReplyStatus;
  /** The handler's result as JSON text, when completed. */
  result?: string;
  error?: string;
  pod: string;
  terminal: number;
  queuedMs: number;
  processingMs: number;
}

export type StreamFields = string[];

export function encodeRequest(message: RequestMessage): StreamFields {
  const fields = [
    "id",
    message.id,
    "reply",
    message.replyTo,
    "deadline",
    String(message.deadline),
    "enq",
    String(message.enqueuedAt),
    "att",
    String(message.attempt),
    "payload",
    message.payload,
  ];
  if (message.resultTtlS > 0) fields.push("ttl", String(message.resultTtlS));
  if (message.traceparent) fields.push("tp", message.traceparent);
  if (message.kind !== "json") fields.push("kind", message.kind);
  if (message.retrySafe) fields.push("rs", "1");
  return fields;
}

/** Flat [field, value, …] from XREAD into a lookup object. */
export function fieldsToRecord(fields: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) {
    record[fields[index] as string] = fields[index + 1] as string;
  }
  return record;
}

/** Thrown for a stream entry that is not a valid message: it is dead-lettered, never retried. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}

function requireNumber(record: Record<string, string>, field: string): number {
  const value = Number(record[field]);
  if (record[field] === undefined || !Number.isFinite(value)) {
    throw new MalformedMessageError(`field ${field} missing or not a number`);
  }
  return value;
}

function requireString(record: Record<string, string>, field: string): string {
  const value = record[field];
  if (value === undefined) throw new MalformedMessageError(`field ${field} missing`);
  return value;
}

export function decodeRequest(fields: readonly string[]): RequestMessage {
  const record = fieldsToRecord(fields);
  const message: RequestMessage = {
    id: requireString(record, "id"),
    replyTo: requireString(record, "reply"),
    deadline: requireNumber(record, "deadline"),
    enqueuedAt: requireNumber(record, "enq"),
    attempt: record.att === undefined ? 1 : requireNumber(record, "att"),
    payload: requireString(record, "payload"),
    resultTtlS: record.ttl === undefined ? 0 : requireNumber(record, "ttl"),
    kind: record.kind === "http" ? "http" : "json",
    retrySafe: record.rs === "1",
  };
  if (record.tp) message.traceparent = record.tp;
  return message;
}

export function encodeReply(reply: ReplyMessage): StreamFields {
  const fields = [
    "id",
    reply.id,
    "status",
    reply.status,
    "pod",
    reply.pod,
    "term",
    String(reply.terminal),
    "qms",
    String(reply.queuedMs),
    "pms",
    String(reply.processingMs),
  ];
  if (reply.result !== undefined) fields.push("result", reply.result);
  if (reply.error !== undefined) fields.push("error", reply.error);
  return fields;
}

export function decodeReply(fields: readonly string[]): ReplyMessage {
  const record = fieldsToRecord(fields);
  const status = requireString(record, "status");
  if (status !== "completed" && status !== "failed" && status !== "expired") {
    throw new MalformedMessageError(`unknown reply status ${status}`);
  }
  const reply: ReplyMessage = {
    id: requireString(record, "id"),
    status,
    pod: record.pod ?? "",
    terminal: record.term === undefined ? -1 : requireNumber(record, "term"),
    queuedMs: record.qms === undefined ? 0 : requireNumber(record, "qms"),
    processingMs: record.pms === undefined ? 0 : requireNumber(record, "pms"),
  };
  if (record.result !== undefined) reply.result = record.result;
  if (record.error !== undefined) reply.error = record.error;
  return reply;
}

/** The stored form of an outcome under the result key: the reply, as JSON. */
export function encodeStoredReply(reply: ReplyMessage): string {
  return JSON.stringify(reply);
}
