import { defaultUrgency, isUrgency } from "../tenant.ts";
import { fieldMap, META } from "./fields.ts";
import { decodeRequest, encodeRequest, type RequestMessage } from "./request.ts";

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
  /**
   * The request as it was queued (its payload is `payload`), so it can be replayed as the same
   * kind, with the same result TTL and timeout. Appended field `request`: the request entry's
   * `m` words. Absent in letters of older proxies and of entries that were not requests.
   */
  request?: RequestMessage;
  /** The tenant the request belonged to, when the writer knows tenants (field `tenant`). */
  tenant?: string;
  /**
   * The urgency of the lane the request was read from (field `urgency`), written only when it is
   * not the normal one: a replay goes back onto a lane of that urgency.
   */
  urgency?: number;
}

/**
 * The urgency a replay of `letter` gets with TENANT_LANES=on: the one it names, else the normal
 * one (the field is left out for it, and letters from older proxies have none).
 */
export function replayUrgency(letter: DeadLetter): number {
  return letter.urgency ?? defaultUrgency;
}

export function encodeDeadLetter(letter: DeadLetter): string[] {
  const fields: string[] = [];
  if (letter.requestId !== undefined) fields.push("id", letter.requestId);
  fields.push("entry", letter.entry);
  if (letter.attempts !== undefined) fields.push("attempts", String(letter.attempts));
  fields.push("error", letter.error, "failedAt", String(letter.failedAt));
  if (letter.payload !== undefined) fields.push("payload", letter.payload);
  // Appended after the version-1 fields: older readers ignore it (docs/contract.md, Rolling upgrades).
  if (letter.request !== undefined) fields.push("request", encodeRequest(letter.request)[1] as string);
  if (letter.tenant !== undefined) fields.push("tenant", letter.tenant);
  if (letter.urgency !== undefined) fields.push("urgency", String(letter.urgency));
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
  const request = map.get("request");
  if (request !== undefined && payload !== undefined) {
    try {
      letter.request = decodeRequest([META, request, "payload", payload]);
    } catch {
      // Unreadable metadata: the letter can still be read and deleted, not replayed.
    }
  }
  const tenant = map.get("tenant");
  if (tenant !== undefined) letter.tenant = tenant;
  const urgency = map.get("urgency");
  if (urgency !== undefined && /^\d$/.test(urgency) && isUrgency(Number(urgency)))
    letter.urgency = Number(urgency);
  return letter;
}
