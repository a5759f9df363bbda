import {
  type EntryRef,
  type RedisClient,
  RedisCompletions,
  RedisRequestQueue,
  type RequestMessage,
  type StreamKeys,
} from "@rsd/shared";
import type { ProtocolTarget } from "./adapters.ts";

/** A request as an ingress would enqueue it; `overrides` change what a test is about. */
export function request(id: string, overrides: Partial<RequestMessage> = {}): RequestMessage {
  const now = Date.now();
  return {
    id,
    replyTo: "",
    deadline: now + 30_000,
    enqueuedAt: now,
    payload: `{"n":"${id}"}`,
    attempt: 1,
    resultTtlS: 0,
    kind: "json",
    retrySafe: false,
    ...overrides,
  };
}

/** The queue and the completions of one deployment (one key set) over `client`. */
export function protocolFor(client: RedisClient, keys: StreamKeys) {
  return {
    queue: new RedisRequestQueue({ client, keys }),
    completions: new RedisCompletions({ client, keys, deadLetterMaxCount: 1000 }),
  };
}

/** RequestQueue.enqueue as a promise (it takes callbacks, because it runs for every request). */
export function enqueued(queue: RedisRequestQueue, stream: string, message: RequestMessage): Promise<void> {
  return new Promise((resolve, reject) => queue.enqueue(stream, message, reject, resolve));
}

/**
 * Requests enqueued on `stream` (its group created) and delivered to `pod`: what a proxy holds
 * after its read. Returns each entry with the message it carries, in order.
 */
export async function deliver(
  queue: RedisRequestQueue,
  options: { stream?: string; pod?: string; messages: RequestMessage[] },
): Promise<{ entry: EntryRef; message: RequestMessage }[]> {
  const stream = options.stream ?? queue.keys.requests;
  await queue.ensureGroup(stream);
  for (const message of options.messages) await enqueued(queue, stream, message);
  const read = await queue.readNew({
    stream,
    pod: options.pod ?? "pod-a",
    count: options.messages.length,
    blockMs: 100,
  });
  if (read.length !== options.messages.length)
    throw new Error(`delivered ${read.length} of ${options.messages.length}`);
  return read.map(([id], index) => ({ entry: { stream, id }, message: options.messages[index]! }));
}

/** The ids of a stream's entries, oldest first ([] for a missing stream). */
export async function streamIds(target: ProtocolTarget, stream: string): Promise<string[]> {
  return (await target.admin.xrange(stream, "-", "+")).map(([id]) => id);
}

/** A stream's entries as [id, fields], oldest first. */
export async function streamEntries(target: ProtocolTarget, stream: string): Promise<[string, string[]][]> {
  return await target.admin.xrange(stream, "-", "+");
}

export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** The group's pending entries (XPENDING, extended form). */
export async function pendingEntries(
  target: ProtocolTarget,
  keys: StreamKeys,
  stream = keys.requests,
): Promise<PendingEntry[]> {
  const rows = (await target.admin.call("XPENDING", stream, keys.group, "-", "+", "1000")) as [
    string,
    string,
    number,
    number,
  ][];
  return rows.map(([id, consumer, idleMs, deliveries]) => ({ id, consumer, idleMs, deliveries }));
}

/** Ids of the group's pending entries. */
export async function pendingIds(target: ProtocolTarget, keys: StreamKeys, stream = keys.requests) {
  return (await pendingEntries(target, keys, stream)).map(({ id }) => id);
}

/** Runs `command` on every master (one on a single Redis): node-wide facts and faults. */
export async function onEveryMaster(target: ProtocolTarget, ...command: string[]): Promise<unknown[]> {
  const [name, ...args] = command as [string, ...string[]];
  return await Promise.all(target.masters.map((master) => master.call(name, ...args)));
}

/**
 * A protocol client logged in as a fresh ACL user with `rules` (created on every master), for
 * tests in which Redis refuses some writes. Close it before the end of the test.
 */
export async function restrictedClient(target: ProtocolTarget, user: string, rules: string[]) {
  await onEveryMaster(target, "ACL", "SETUSER", user, "reset", "on", ">conformance", ...rules);
  return await target.connectAs(user, "conformance");
}
