import { MalformedMessageError, META, numberAt, unpack } from "./fields.ts";

/** Format version of reply entries (see fields.ts for the versioning rule). */
export const replyFormatVersion = 1;

export type ReplyStatus = "completed" | "failed" | "expired";

/** The terminal of a reply that no terminal produced (expired on arrival, dead-lettered, reclaimed). */
export const noTerminal = -1;

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
  /** The terminal that ran it, or `noTerminal`. */
  terminal: number;
  queuedMs: number;
  processingMs: number;
}

/**
 * Results longer than this (UTF-16 units, so at most three times as many bytes) leave the reply
 * stream for a key of their own: an ingress reads its replies COUNT at a time, and COUNT × this
 * bounds the bytes one read can bring, whatever the backends answer.
 */
export const inlineResultLimit = 16 * 1024;

/** Reply `m`: id status pod terminal queuedMs processingMs; then `result`, `ref` or `error`. */
export function encodeReply(reply: ReplyMessage): string[] {
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
