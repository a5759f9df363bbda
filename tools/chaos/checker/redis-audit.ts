import Redis from "ioredis";
import type { AnswerCounts } from "./answers.ts";
import type { Verdict } from "./verdict.ts";

export interface AuditInput {
  redisUrl: string;
  /** STREAM_PREFIX: the checker builds the key names from docs/contract.md itself. */
  prefix: string;
  liveIngresses: number;
  counts: AnswerCounts;
  /** Ids of 200 answers: a request that succeeded must not also be a dead letter. */
  succeededIds: ReadonlySet<string>;
}

export interface AuditReport {
  pending: number;
  lag: number;
  replyStreams: { key: string; length: number; ttlS: number }[];
  deadLetters: number;
  /** Dead letters whose request's client heard 504 (it may fail after the gateway gave up waiting). */
  deadAfterTimeout: number;
  /** Dead letters of requests no client got an id for (connections failed during an ingress restart). */
  deadUnattributed: number;
  asyncOutcomes: Record<string, number>;
}

/** A reply stream holds what its ingress has not trimmed yet: one stream node (100) plus a round's replies. */
const replyStreamBound = 300;

/**
 * After the run: Redis, read directly over its own client (ioredis, not the services' protocol
 * module), must show nothing pending or undelivered, trimmed reply streams only for live
 * ingresses, a dead letter for every 502 and no other unexplained one, and a final stored outcome
 * for every accepted async request.
 */
export async function auditRedis(input: AuditInput, verdict: Verdict): Promise<AuditReport> {
  const redis = new Redis(input.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on("error", () => {});
  try {
    const stream = `${input.prefix}:requests`;
    const drained = await poll(30_000, async () => {
      const groups = (await redis.xinfo("GROUPS", stream)) as unknown[][];
      const group = groups.map(toObject).find((candidate) => candidate.name === "proxies");
      const pending = Number(group?.pending ?? -1);
      const lag = group?.lag === null ? -1 : Number(group?.lag ?? -1);
      return { done: pending === 0 && lag === 0, value: { pending, lag } };
    });
    if (!drained.done)
      verdict.fail(
        "nothing-pending",
        `after the run: ${drained.value.pending} pending, lag ${drained.value.lag} on ${stream}`,
      );

    const streams = await poll(20_000, async () => {
      const keys = await scanAll(redis, `${input.prefix}:replies:*`);
      const value = await Promise.all(
        keys.map(async (key) => ({ key, length: await redis.xlen(key), ttlS: await redis.ttl(key) })),
      );
      const done =
        value.length <= input.liveIngresses &&
        value.every((entry) => entry.length <= replyStreamBound && entry.ttlS > 0);
      return { done, value };
    });
    if (!streams.done)
      verdict.fail(
        "reply-streams-trimmed",
        `reply streams after the run: ${JSON.stringify(streams.value)} (at most ${input.liveIngresses}, each ≤ ${replyStreamBound} entries with a TTL)`,
      );

    const { ids: dead, entries: deadEntries } = await deadLetterIds(redis, `${input.prefix}:dead`);
    // One request fails once: a second dead letter for it means a failure was written twice.
    if (deadEntries !== dead.size)
      verdict.fail(
        "dead-letters-match-502",
        `${deadEntries} dead letters for ${dead.size} requests: some request was dead-lettered twice`,
      );
    const failed = new Set(input.counts.failedIds);
    const timedOut = new Set(input.counts.timedOutIds);
    for (const id of failed)
      if (!dead.has(id))
        verdict.fail("dead-letters-match-502", `${id} was answered 502 but is not in the dead letters`);
    let deadAfterTimeout = 0;
    let deadUnattributed = 0;
    for (const id of dead) {
      if (failed.has(id)) continue;
      if (input.succeededIds.has(id))
        verdict.fail("dead-letters-match-502", `${id} was answered 200 and is also a dead letter`);
      else if (timedOut.has(id)) deadAfterTimeout++;
      else deadUnattributed++;
    }
    if (deadUnattributed > input.counts.transportErrorsFromFaults)
      verdict.fail(
        "dead-letters-match-502",
        `${deadUnattributed} dead letter(s) belong to no request a client saw fail (only ${input.counts.transportErrorsFromFaults} answers were lost to ingress restarts)`,
      );

    const asyncOutcomes: Record<string, number> = {};
    for (const id of input.counts.acceptedAsyncIds) {
      const raw = await redis.get(`${input.prefix}:result:${id}`);
      const status = storedStatus(raw);
      asyncOutcomes[status] = (asyncOutcomes[status] ?? 0) + 1;
      if (status !== "completed" && status !== "failed" && status !== "expired")
        verdict.fail("async-final-outcome", `${id}: stored outcome after the run is ${status}`);
    }
    return {
      pending: drained.value.pending,
      lag: drained.value.lag,
      replyStreams: streams.value,
      deadLetters: dead.size,
      deadAfterTimeout,
      deadUnattributed,
      asyncOutcomes,
    };
  } finally {
    redis.disconnect();
  }
}

async function poll<T>(
  timeoutMs: number,
  probe: () => Promise<{ done: boolean; value: T }>,
): Promise<{ done: boolean; value: T }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result.done || Date.now() >= deadline) return result;
    await Bun.sleep(250);
  }
}

function toObject(pairs: unknown[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let index = 0; index + 1 < pairs.length; index += 2) object[String(pairs[index])] = pairs[index + 1];
  return object;
}

async function scanAll(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** The `id` field of every dead letter (contract: plain field/value pairs, `id` first). */
async function deadLetterIds(redis: Redis, key: string): Promise<{ ids: Set<string>; entries: number }> {
  const ids = new Set<string>();
  let count = 0;
  let start = "-";
  for (;;) {
    const entries = await redis.xrange(key, start, "+", "COUNT", 1000);
    count += entries.length;
    for (const [, fields] of entries) {
      const object = toObject(fields);
      if (typeof object.id === "string") ids.add(object.id);
    }
    if (entries.length < 1000) return { ids, entries: count };
    start = `(${entries[entries.length - 1]?.[0]}`;
  }
}

function storedStatus(raw: string | null): string {
  if (raw === null) return "missing";
  try {
    const parsed = JSON.parse(raw) as { status?: unknown };
    return typeof parsed.status === "string" ? parsed.status : "unreadable";
  } catch {
    return "unreadable";
  }
}
