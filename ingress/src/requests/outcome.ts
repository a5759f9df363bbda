import type { ReplyMessage } from "@rsd/shared";

/** What became of a request, independent of HTTP (the presenter maps it to the contract's responses). */
export type RequestOutcome =
  | { kind: "answered"; reply: ReplyMessage; totalMs: number }
  | { kind: "accepted"; id: string }
  | { kind: "pending"; id: string }
  | { kind: "timeout"; id: string }
  | { kind: "shutdown"; id: string };
