import type { StreamEntry } from "./client/replies.ts";
import { laneId } from "./keys.ts";
import { LaneQueue } from "./lanes.ts";
import { type ProtocolDeps, ProtocolOperations } from "./operations.ts";
import { type DeadLetter, decodeDeadLetter, replayUrgency } from "./records/dead-letter.ts";
import { encodeRequest, type RequestMessage } from "./records/request.ts";
import { encodePending } from "./records/stored-result.ts";
import { scripts } from "./scripts/index.ts";
import { defaultUrgency, isTenantName, scopedTenant } from "./tenant.ts";

/** A dead letter with the id of its entry in the dead-letter stream. */
export interface DeadLetterEntry extends DeadLetter {
  id: string;
}

/** What a replay did. */
export type ReplayOutcome =
  | { status: "replayed"; requestId: string; streamEntry: string }
  /** The letter is gone (replayed or deleted meanwhile, or trimmed). */
  | { status: "missing" }
  /** The letter holds no request to replay (written by an older proxy, or not a request). */
  | { status: "not-replayable" };

/** Which dead letters a bulk operation takes. Both given: both must hold. */
export interface DeadLetterFilter {
  /** The last error contains this text (case-insensitive). */
  errorContains?: string;
  /** Dead-lettered at least this long ago (by the stream id: Redis's clock). */
  olderThanMs?: number;
}

export interface BulkOutcome {
  /** Letters looked at in this call. */
  scanned: number;
  /** Letters that matched the filter. */
  matched: number;
  /** Matching letters replayed or deleted. */
  done: number;
  /** Matching letters left as they were (not replayable, or gone meanwhile). */
  skipped: number;
  /** Pass as `after` to go on where this call stopped; null when the stream was read to its end. */
  next: string | null;
}

/** The most letters one page or one bulk call acts on; one bulk call reads at most bulkScanLimit. */
export const deadLetterPageMax = 100;
export const deadLetterBulkMax = 1000;
export const deadLetterBulkScanLimit = 5000;

/** A stream entry id (`<ms>-<seq>`), the only form the operations accept from outside. */
export function isStreamEntryId(text: string): boolean {
  return /^\d{1,20}-\d{1,20}$/.test(text);
}

/** The request a replay enqueues: attempt 1, a fresh deadline as long as the original one, nobody waiting. */
export function replayOf(request: RequestMessage, now: number): RequestMessage {
  const timeoutMs = Math.max(1, request.deadline - request.enqueuedAt);
  return { ...request, replyTo: "", attempt: 1, enqueuedAt: now, deadline: now + timeoutMs };
}

function toEntry([id, fields]: StreamEntry): DeadLetterEntry {
  return { id, ...decodeDeadLetter(fields ?? []) };
}

/**
 * The dead-letter stream (`<prefix>:dead`). Dead letters are added with the request's other
 * outcome writes (Completions), capped there by count; here they are bounded by age, read,
 * replayed and deleted.
 */
export class DeadLetters extends ProtocolOperations {
  /**
   * TENANT_LANES=on: a request is replayed onto its tenant's lane of the urgency it was read at
   * (the letter's `urgency`, else the normal one), where dispatch gives it the tenant's share and
   * its priority, as when it first came in; off, onto a shard stream.
   */
  private readonly lanes: LaneQueue | undefined;

  constructor(deps: ProtocolDeps & { lanes?: boolean }) {
    super(deps);
    this.lanes = deps.lanes ? new LaneQueue({ client: deps.client, keys: deps.keys }) : undefined;
  }

  /**
   * Removes the dead letters older than `maxAgeS`; returns how many went. Stream ids are
   * milliseconds of Redis's clock, so the bound is computed from Redis's TIME, not this machine's.
   */
  async trimOlderThan(maxAgeS: number): Promise<number> {
    const nowS = Math.floor((await this.client.time()) / 1000);
    return await this.client.xtrim(this.keys.dead, { minId: `${(nowS - maxAgeS) * 1000}-0` });
  }

  count(): Promise<number> {
    return this.client.xlen(this.keys.dead);
  }

  /** Up to `count` (1…deadLetterPageMax) letters, newest first, older than the entry `after` when given. */
  async page(options: {
    count: number;
    after?: string;
  }): Promise<{ entries: DeadLetterEntry[]; next: string | null }> {
    const count = Math.min(Math.max(1, options.count), deadLetterPageMax);
    const end = options.after ? `(${options.after}` : "+";
    const entries = (await this.client.xrevrange(this.keys.dead, end, "-", count)).map(toEntry);
    return { entries, next: entries.length === count ? (entries.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<DeadLetterEntry | undefined> {
    const [entry] = await this.client.xrange(this.keys.dead, id, id, 1);
    return entry ? toEntry(entry) : undefined;
  }

  /** Deletes letters; returns how many existed. */
  remove(ids: string[]): Promise<number> {
    return this.client.xdel(this.keys.dead, ids);
  }

  /**
   * Puts the letter's request back on a request stream as a fresh request (attempt 1, a new
   * deadline as long as the first one); its stored outcome, if it keeps one, turns back to
   * pending and then follows the new attempt. The letter is deleted only once the request is
   * enqueued. On one Redis that is one script, so a letter is replayed at most once; on a cluster
   * the keys live on different nodes, and the steps run in that order instead (two operators
   * replaying the same letter at the same instant may both enqueue it).
   */
  async replay(id: string, now = Date.now()): Promise<ReplayOutcome> {
    const letter = await this.get(id);
    if (!letter) return { status: "missing" };
    if (!letter.request) return { status: "not-replayable" };
    const request = replayOf(letter.request, now);
    // A name that is not a tenant's cannot name keys; the letter is left for an operator to read.
    if (request.tenant !== undefined && !isTenantName(request.tenant)) return { status: "not-replayable" };
    const shard = Math.floor(Math.random() * this.keys.shards);
    const tenant = scopedTenant(request.tenant);
    const urgency = replayUrgency(letter);
    // A lane of its own unless it is (default, normal urgency), the shard stream itself.
    const onLane = this.lanes !== undefined && (tenant !== undefined || urgency !== defaultUrgency);
    const stream = onLane
      ? this.keys.lane(shard, tenant, urgency)
      : (this.keys.requestStreams[shard] as string);
    const resultKey = this.keys.result(request.id, request.tenant);
    const pending = encodePending({
      id: request.id,
      status: "pending",
      deadline: request.deadline,
      enqueuedAt: request.enqueuedAt,
    });
    const fields = encodeRequest(request);
    let streamEntry: unknown;
    if (this.client.cluster) {
      streamEntry =
        onLane && this.lanes
          ? await this.lanes.enqueue(shard, request, urgency)
          : await this.client.xadd(stream, fields);
      if (request.resultTtlS > 0) await this.client.set(resultKey, pending, { ttlS: request.resultTtlS });
      await this.client.xdel(this.keys.dead, [id]);
    } else {
      const laneKeys = onLane ? [this.keys.activeLanes(shard), this.keys.bell(shard)] : [];
      streamEntry = await this.client.runScript(
        scripts.replayDeadLetter,
        [this.keys.dead, stream, resultKey, ...laneKeys],
        [
          id,
          String(request.resultTtlS),
          pending,
          onLane ? this.keys.group : "",
          onLane ? laneId(tenant, urgency) : "",
          ...fields,
        ],
      );
    }
    if (typeof streamEntry !== "string") return { status: "missing" };
    return { status: "replayed", requestId: request.id, streamEntry };
  }

  /**
   * Replays or deletes the letters that match `filter`, oldest first, from after `after`: at most
   * `max` (≤ deadLetterBulkMax) of them, reading at most deadLetterBulkScanLimit letters per call,
   * so one call is bounded whatever the stream holds. Call again with `next` to go on.
   */
  async bulk(options: {
    action: "replay" | "purge";
    filter: DeadLetterFilter;
    max: number;
    after?: string;
  }): Promise<BulkOutcome> {
    const max = Math.min(Math.max(1, options.max), deadLetterBulkMax);
    const { errorContains, olderThanMs } = options.filter;
    const needle = errorContains?.toLowerCase();
    const cutoff = olderThanMs === undefined ? undefined : (await this.client.time()) - olderThanMs;
    const outcome: BulkOutcome = { scanned: 0, matched: 0, done: 0, skipped: 0, next: null };
    let start = options.after ? `(${options.after}` : "-";
    const matches: DeadLetterEntry[] = [];
    scan: while (outcome.scanned < deadLetterBulkScanLimit && matches.length < max) {
      const page = Math.min(200, deadLetterBulkScanLimit - outcome.scanned);
      const entries = (await this.client.xrange(this.keys.dead, start, "+", page)).map(toEntry);
      for (const entry of entries) {
        // Ids grow with time: past the cutoff every later letter is younger still.
        if (cutoff !== undefined && Number(entry.id.split("-")[0]) > cutoff) break scan;
        outcome.scanned++;
        outcome.next = entry.id;
        if (needle === undefined || entry.error.toLowerCase().includes(needle)) matches.push(entry);
        if (matches.length >= max) break scan;
      }
      if (entries.length < page) {
        outcome.next = null;
        break;
      }
      start = `(${entries.at(-1)?.id}`;
    }
    if (outcome.scanned < deadLetterBulkScanLimit && matches.length < max) outcome.next = null;
    outcome.matched = matches.length;
    if (options.action === "purge") outcome.done = await this.remove(matches.map((entry) => entry.id));
    else for (const entry of matches) if ((await this.replay(entry.id)).status === "replayed") outcome.done++;
    outcome.skipped = outcome.matched - outcome.done;
    return outcome;
  }
}
