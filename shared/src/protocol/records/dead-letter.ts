import { fieldMap } from "./fields.ts";

/**
 * Format version of dead-letter entries (`<prefix>:dead`): plain field/value pairs, fields only
 * ever added; readers ignore the ones they do not know.
 */
export const deadLetterFormatVersion = 1;

/** A request that failed for good, or an entry that was not a request at all (no id then). */
export interface DeadLetter {
  /** The request's id; absent for an entry that could not be decoded. */
  requestId?: string;
  /** The request stream entry it came from. */
  entry: string;
  /** Attempts made; absent for an entry that could not be decoded. */
  attempts?: number;
  error: string;
  /** Epoch ms. */
  failedAt: number;
  /** The request's payload, so an operator can see it and replay it. */
  payload?: string;
  /** The tenant that sent it; absent for `default` and for an entry that could not be decoded. */
  tenant?: string;
}

export function encodeDeadLetter(letter: DeadLetter): string[] {
  const fields: string[] = [];
  if (letter.requestId !== undefined) fields.push("id", letter.requestId);
  fields.push("entry", letter.entry);
  if (letter.attempts !== undefined) fields.push("attempts", String(letter.attempts));
  fields.push("error", letter.error, "failedAt", String(letter.failedAt));
  if (letter.payload !== undefined) fields.push("payload", letter.payload);
  if (letter.tenant !== undefined) fields.push("tenant", letter.tenant);
  return fields;
}

export function decodeDeadLetter(fields: readonly string[]): DeadLetter {
  const map = fieldMap(fields);
  const letter: DeadLetter = {
    entry: map.get("entry") ?? "",
    error: map.get("error") ?? "",
    failedAt: Number(map.get("failedAt") ?? 0),
  };
  const id = map.get("id");
  if (id !== undefined) letter.requestId = id;
  const attempts = map.get("attempts");
  if (attempts !== undefined) letter.attempts = Number(attempts);
  const payload = map.get("payload");
  if (payload !== undefined) letter.payload = payload;
  const tenant = map.get("tenant");
  if (tenant !== undefined) letter.tenant = tenant;
  return letter;
}
