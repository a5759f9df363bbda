import type { ReplyMessage } from "@rsd/shared";

/** What became of a request, independent of HTTP (the presenter maps it to the contract's responses). */
export type RequestOutcome =
  | { kind: "answered"; reply: ReplyMessage; totalMs: number }
  | { kind: "accepted"; id: string }
  | { kind: "pending"; id: string }
  | { kind: "timeout"; id: string }
  | { kind: "shutdown"; id: string };

/** The record kept under the result key while a stored request runs; the proxy replaces it with the reply. */
export interface PendingRecord {
  id: string;
  status: "pending";
  deadline: number;
  enqueuedAt: number;
}

export type StoredRecord = PendingRecord | ReplyMessage;
