import { isTenantName, scopedTenant } from "../tenant.ts";
import { ABSENT, MalformedMessageError, META, numberAt, unpack } from "./fields.ts";

/** Format version of request entries (see fields.ts for the versioning rule). */
export const requestFormatVersion = 1;

/** A request as it travels on the request stream. */
export interface RequestMessage {
  id: string;
  /** The reply stream of the ingress waiting for the answer ("" for an async request). */
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
  /** The tenant that sent it (word 10); absent = `default`, so a one-tenant record keeps its shape. */
  tenant?: string;
}

export type RequestKind = "json" | "http";

/** Request `m`: id replyTo deadline enqueuedAt attempt resultTtlS kind retrySafe traceparent tenant. */
export function encodeRequest(message: RequestMessage): string[] {
  const meta =
    `${message.id} ${message.replyTo || ABSENT} ${message.deadline} ${message.enqueuedAt} ` +
    `${message.attempt} ${message.resultTtlS} ${message.kind} ${message.retrySafe ? 1 : 0} ` +
    `${message.traceparent || ABSENT} ${message.tenant || ABSENT}`;
  return [META, meta, "payload", message.payload];
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
  const tenant = decodeTenant(meta[9]);
  if (tenant !== undefined) message.tenant = tenant;
  return message;
}

/**
 * Word 10, the tenant (appended after traceparent; an older writer has no word 10: `default`).
 * It becomes part of key names, so a word that is no tenant name refuses the whole record.
 */
function decodeTenant(word: string | undefined): string | undefined {
  if (word === undefined || word === ABSENT) return undefined;
  if (!isTenantName(word))
    throw new MalformedMessageError(`tenant is not a tenant name: ${word.slice(0, 40)}`);
  return scopedTenant(word);
}

/** The next attempt of a request: the same message with attempt + 1. */
export function nextAttempt(message: RequestMessage): RequestMessage {
  return { ...message, attempt: message.attempt + 1 };
}
