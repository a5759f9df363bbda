import type { ReplyMessage } from "./reply.ts";

/**
 * Format version of the stored outcome under `<prefix>:result:<id>`: JSON, written `pending` by
 * the ingress at enqueue and replaced by the proxy's reply. Properties are only ever added;
 * readers ignore the ones they do not know.
 */
export const storedResultFormatVersion = 1;

/** The record kept under the result key while a stored request runs. */
export interface PendingRecord {
  id: string;
  status: "pending";
  deadline: number;
  enqueuedAt: number;
}

export type StoredRecord = PendingRecord | ReplyMessage;

export function encodePending(record: PendingRecord): string {
  return JSON.stringify(record);
}

/** The stored form of an outcome: the reply, as JSON. */
export function encodeStoredReply(reply: ReplyMessage): string {
  return JSON.stringify(reply);
}

/** A stored record, or undefined when the text is not one (a foreign or corrupted value). */
export function decodeStored(text: string): StoredRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Partial<StoredRecord>;
  if (typeof record.id !== "string" || typeof record.status !== "string") return undefined;
  return record as StoredRecord;
}

export function isFinal(record: StoredRecord | undefined): record is ReplyMessage {
  return record !== undefined && record.status !== "pending";
}
