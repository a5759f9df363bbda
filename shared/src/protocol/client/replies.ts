import { ReplyError } from "ioredis";

/** One stream entry as Redis returns it; fields are null for an entry deleted while pending. */
export type StreamEntry = [id: string, fields: string[] | null];

/**
 * The entries of an XREAD / XREADGROUP reply, by stream, whichever shape it arrives in: a map of
 * stream → entries (Bun's client, RESP3), a flat [stream, entries, stream, entries, …] list (a
 * RESP3 map through ioredis's generic `call`), or a list of [stream, entries] pairs (RESP2).
 */
export function streamEntries(reply: unknown): [stream: string, entries: StreamEntry[]][] {
  if (reply === null || reply === undefined) return [];
  if (!Array.isArray(reply)) return Object.entries(reply as Record<string, StreamEntry[]>);
  if (typeof reply[0] !== "string") return reply as [string, StreamEntry[]][];
  const pairs: [string, StreamEntry[]][] = [];
  for (let index = 0; index + 1 < reply.length; index += 2)
    pairs.push([reply[index] as string, reply[index + 1] as StreamEntry[]]);
  return pairs;
}

/** The entries of one stream's read (the first stream of the reply). */
export function firstStreamEntries(reply: unknown): StreamEntry[] {
  const first = streamEntries(reply)[0];
  return first ? first[1] : [];
}

/** The entries of an XRANGE / XREVRANGE reply (a plain list of [id, fields] in both RESP versions). */
export function streamRange(reply: unknown): StreamEntry[] {
  return Array.isArray(reply) ? (reply as StreamEntry[]) : [];
}

/** A map reply (HGETALL, XINFO) as a record: a RESP3 map arrives as an object, RESP2 as [k, v, …]. */
export function mapReply(reply: unknown): Record<string, unknown> {
  if (reply === null || reply === undefined) return {};
  if (!Array.isArray(reply)) return reply as Record<string, unknown>;
  const record: Record<string, unknown> = {};
  for (let index = 0; index + 1 < reply.length; index += 2) record[String(reply[index])] = reply[index + 1];
  return record;
}

/** An error reply from Redis (e.g. NOGROUP, OOM) as opposed to a connection that failed. */
export function isErrorReply(error: unknown): boolean {
  return (
    error instanceof ReplyError || (error as { code?: unknown } | null)?.code === "ERR_REDIS_SERVER_ERROR"
  );
}

/**
 * A command the client refused to send because its connection was down (no offline queue): Redis
 * never saw it. Unlike a connection lost after sending, whose command Redis may still run (a
 * paused server executes what it had read once it resumes, even for a client that left).
 */
export class NotSentError extends Error {
  override name = "NotSentError";
  constructor() {
    super("not sent: the Redis connection is down");
  }
}

/**
 * Whether a failed command certainly did not run: it was never sent, or Redis refused it with an
 * error reply. Any other failure (a connection lost or closed by the watchdog while the command
 * was in flight) leaves its outcome unknown.
 */
export function neverRan(error: unknown): boolean {
  return error instanceof NotSentError || isErrorReply(error);
}

/** Redis error replies are matched by their code prefix (e.g. NOGROUP, BUSYGROUP). */
export function isRedisError(error: unknown, code: string): boolean {
  return error instanceof Error && error.message.startsWith(code);
}

/**
 * An error a command met while it ran (WRONGTYPE: the key holds another type), as opposed to a
 * refusal before it ran (OOM, NOPERM, …). Inside MULTI … EXEC the first leaves the other commands
 * running and the second discards them all; where MULTI cannot be used (across cluster nodes),
 * the same distinction keeps the outcome the same.
 */
export function failedWhileRunning(error: unknown): boolean {
  return isRedisError(error, "WRONGTYPE");
}
