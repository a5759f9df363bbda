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
  /**
   * On a reply stream only: the key holding a result too large to travel inline (see
   * inlineResultLimit); the ingress reads it only for a request someone still waits for.
   */
  resultRef?: string;
  error?: string;
  pod: string;
  terminal: number;
  queuedMs: number;
  processingMs: number;
}

export type StreamFields = string[];

/**
 * On the stream each message is two fields: `m`, its metadata as space-separated words, and the
 * body (`payload`, or `result` / `error`) as it is. Every metadata word comes from a restricted
 * alphabet (UUIDs, numbers, key names of [A-Za-z0-9._:{}-], pod names, traceparent hex), so a
 * space never needs escaping. Two fields instead of up to twenty: each field is a string that
 * Redis stores and both clients encode, parse and allocate per request, and with a zero-time
 * backend that per-request work is what the gateway costs (docs/benchmarks.md).
 *
 * Request `m`: id replyTo deadline enqueuedAt attempt resultTtlS kind retrySafe traceparent
 * (replyTo and traceparent are `-` when absent). Reply `m`: id status pod terminal queuedMs
 * processingMs.
 */
const META = "m";
const ABSENT = "-";

export function encodeRequest(message: RequestMessage): StreamFields {
  const meta =
    `${message.id} ${message.replyTo || ABSENT} ${message.deadline} ${message.enqueuedAt} ` +
    `${message.attempt} ${message.resultTtlS} ${message.kind} ${message.retrySafe ? 1 : 0} ` +
    `${message.traceparent || ABSENT}`;
  return [META, meta, "payload", message.payload];
}

/** Thrown for a stream entry that is not a valid message: it is dead-lettered, never retried. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}

/** The metadata words of an entry, checked for count; `body` is the value of the named body field. */
function unpack(
  fields: readonly string[],
  words: number,
  what: string,
): { meta: string[]; bodyField: string | undefined; body: string | undefined } {
  if (fields[0] !== META || typeof fields[1] !== "string")
    throw new MalformedMessageError(`not a ${what}: no "${META}" field first`);
  const meta = fields[1].split(" ");
  if (meta.length !== words)
    throw new MalformedMessageError(`${what} metadata has ${meta.length} words, expected ${words}`);
  return { meta, bodyField: fields[2], body: fields[3] };
}

function numberAt(meta: string[], index: number, name: string): number {
  const value = Number(meta[index]);
  if (meta[index] === "" || !Number.isFinite(value))
    throw new MalformedMessageError(`${name} is not a number: ${meta[index]}`);
  return value;
}

export function decodeRequest(fields: readonly string[]): RequestMessage {
  const { meta, bodyField, body } = unpack(fields, 9, "request");
  if (bodyField !== "payload" || body === undefined) throw new MalformedMessageError("payload missing");
  const [id, replyTo, , , , , kind, retrySafe, traceparent] = meta as [string, string, ...string[]];
  const message: RequestMessage = {
    id,
    replyTo: replyTo === ABSENT ? "" : replyTo,
    deadline: numberAt(meta, 2, "deadline"),
    enqueuedAt: numberAt(meta, 3, "enqueuedAt"),
    attempt: numberAt(meta, 4, "attempt"),
    payload: body,
    resultTtlS: numberAt(meta, 5, "resultTtlS"),
    kind: kind === "http" ? "http" : "json",
    retrySafe: retrySafe === "1",
  };
  if (traceparent && traceparent !== ABSENT) message.traceparent = traceparent;
  return message;
}

/**
 * Results longer than this (UTF-16 units, so at most three times as many bytes) leave the reply
 * stream for a key of their own: an ingress reads its replies COUNT at a time, and COUNT × this
 * bounds the bytes one read can bring, whatever the backends answer.
 */
export const inlineResultLimit = 16 * 1024;

export function encodeReply(reply: ReplyMessage): StreamFields {
  const meta = `${reply.id} ${reply.status} ${reply.pod} ${reply.terminal} ${reply.queuedMs} ${reply.processingMs}`;
  if (reply.resultRef !== undefined) return [META, meta, "ref", reply.resultRef];
  if (reply.result !== undefined) return [META, meta, "result", reply.result];
  if (reply.error !== undefined) return [META, meta, "error", reply.error];
  return [META, meta];
}

/** Whether an entry of a reply stream is a reply (the stream also holds its creation marker). */
export function isReplyEntry(fields: readonly string[] | null): fields is string[] {
  return fields?.[0] === META;
}

export function decodeReply(fields: readonly string[]): ReplyMessage {
  const { meta, bodyField, body } = unpack(fields, 6, "reply");
  const [id, status, pod] = meta as [string, string, string];
  if (status !== "completed" && status !== "failed" && status !== "expired") {
    throw new MalformedMessageError(`unknown reply status ${status}`);
  }
  const reply: ReplyMessage = {
    id,
    status,
    pod,
    terminal: numberAt(meta, 3, "terminal"),
    queuedMs: numberAt(meta, 4, "queuedMs"),
    processingMs: numberAt(meta, 5, "processingMs"),
  };
  if (bodyField === "result" && body !== undefined) reply.result = body;
  if (bodyField === "ref" && body !== undefined) reply.resultRef = body;
  if (bodyField === "error" && body !== undefined) reply.error = body;
  return reply;
}

/** The stored form of an outcome under the result key: the reply, as JSON. */
export function encodeStoredReply(reply: ReplyMessage): string {
  return JSON.stringify(reply);
}
