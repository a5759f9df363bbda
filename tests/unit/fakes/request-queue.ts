import {
  type AutoClaimed,
  type EntryRef,
  encodeRequest,
  nextAttempt,
  type RequestMessage,
  type RequestQueue,
  type ShardCounts,
  type StreamEntry,
  StreamKeys,
} from "@rsd/shared";

/** An entry a consumer holds (delivered, not acknowledged): XPENDING's view of it. */
interface Held {
  pod: string;
  /** When it was delivered or last claimed, by the fake's clock (its idle time starts there). */
  claimedAt: number;
}

/** One request stream and its consumer group, the way Redis keeps them. */
class FakeStream {
  /** Entry id → fields, in insertion (= id) order; null once deleted while pending. */
  readonly entries = new Map<string, string[] | null>();
  readonly held = new Map<string, Held>();
  /** Consumer → when it was last seen (read or claimed). */
  readonly consumers = new Map<string, number>();
  group = false;
  lastDelivered = 0;
  /** Entries the group ever delivered (XINFO GROUPS entries-read). */
  read = 0;
  private nextSeq = 1;

  add(fields: string[]): string {
    const id = `${this.nextSeq++}-0`;
    this.entries.set(id, fields);
    return id;
  }

  undelivered(): string[] {
    return [...this.entries.keys()].filter((id) => seq(id) > this.lastDelivered);
  }
}

function seq(id: string): number {
  return Number(id.split("-")[0]);
}

/** The operations a test can make fail (the rest of RequestQueue's members are not calls). */
export type QueueOperation = Exclude<keyof RequestQueue, "keys" | "ready">;

/**
 * An in-memory RequestQueue with the semantics the protocol promises (docs/contract.md): one
 * consumer group per stream, entries held by the pod that read them until acknowledged, a requeue
 * that acks and re-adds attempt + 1 atomically only while the pod still holds the entry, claims
 * by idle time. Entries are stored encoded, through the protocol's own codec. A test can make any
 * call fail (`failNext`) or a whole stream unreachable (`disconnect`), as a Redis that went away.
 */
export class FakeRequestQueue implements RequestQueue {
  readonly keys: StreamKeys;
  ready = true;
  private readonly streams = new Map<string, FakeStream>();
  private readonly failures = new Map<QueueOperation, unknown[]>();
  private readonly unreachable = new Set<string>();
  private readonly now: () => number;

  constructor(options: { keys?: StreamKeys; now?: () => number } = {}) {
    this.keys = options.keys ?? new StreamKeys("unit");
    this.now = options.now ?? (() => Date.now());
  }

  /** The next call of `operation` rejects with `error` (once per call of failNext). */
  failNext(operation: QueueOperation, error: unknown = new Error("Connection closed")): void {
    this.failures.set(operation, [...(this.failures.get(operation) ?? []), error]);
  }

  /** Every call on `stream` rejects, as when its Redis node does not answer. */
  disconnect(stream: string): void {
    this.unreachable.add(stream);
  }

  /** Entry ids `pod` holds on `stream`, oldest first. */
  heldBy(pod: string, stream = this.keys.requests): string[] {
    return [...this.stream(stream).held]
      .filter(([, held]) => held.pod === pod)
      .map(([id]) => id)
      .sort((a, b) => seq(a) - seq(b));
  }

  async waitUntilReady(): Promise<boolean> {
    return this.ready;
  }

  enqueue(stream: string, message: RequestMessage, onError: (error: unknown) => void, onSent?: () => void) {
    try {
      this.check("enqueue", stream);
      this.stream(stream).add(encodeRequest(message));
    } catch (error) {
      // Like the real batch: the outcome arrives after this turn, never inside the call.
      queueMicrotask(() => onError(error));
      return;
    }
    if (onSent) queueMicrotask(onSent);
  }

  async ensureGroup(stream: string): Promise<boolean> {
    this.check("ensureGroup", stream);
    const state = this.stream(stream);
    if (state.group) return false;
    state.group = true;
    return true;
  }

  async readNew(options: { stream: string; pod: string; count: number; blockMs: number }) {
    this.check("readNew", options.stream);
    const state = this.withGroup(options.stream);
    state.consumers.set(options.pod, this.now());
    const ids = state.undelivered().slice(0, options.count);
    for (const id of ids) {
      state.held.set(id, { pod: options.pod, claimedAt: this.now() });
      state.lastDelivered = seq(id);
      state.read++;
    }
    return ids.map((id): StreamEntry => [id, state.entries.get(id) ?? null]);
  }

  async readOwnPending(options: { stream: string; pod: string; after: string; count: number }) {
    this.check("readOwnPending", options.stream);
    const state = this.withGroup(options.stream);
    return this.heldBy(options.pod, options.stream)
      .filter((id) => seq(id) > seq(options.after))
      .slice(0, options.count)
      .map((id): StreamEntry => [id, state.entries.get(id) ?? null]);
  }

  async ack(entries: EntryRef[]): Promise<void> {
    for (const { stream } of entries) this.check("ack", stream);
    for (const { stream, id } of entries) this.stream(stream).held.delete(id);
  }

  async requeue({ pod, entry, message }: { pod: string; entry: EntryRef; message: RequestMessage }) {
    this.check("requeue", entry.stream);
    const state = this.stream(entry.stream);
    if (state.held.get(entry.id)?.pod !== pod) return false;
    state.held.delete(entry.id);
    state.add(encodeRequest(nextAttempt(message)));
    return true;
  }

  async claimIdle(options: {
    stream: string;
    pod: string;
    minIdleMs: number;
    cursor: string;
    count: number;
  }): Promise<AutoClaimed> {
    this.check("claimIdle", options.stream);
    const state = this.withGroup(options.stream);
    const now = this.now();
    const candidates = [...state.held]
      .filter(([id, held]) => seq(id) >= seq(options.cursor) && now - held.claimedAt >= options.minIdleMs)
      .map(([id]) => id);
    const page = candidates.slice(0, options.count);
    const claimed: AutoClaimed = { next: candidates[options.count] ?? "0-0", entries: [], deleted: [] };
    for (const id of page) {
      const fields = state.entries.get(id);
      if (!fields) {
        // Redis ≥ 7 drops a pending id whose entry is gone and reports it.
        state.held.delete(id);
        claimed.deleted.push(id);
        continue;
      }
      state.held.set(id, { pod: options.pod, claimedAt: now });
      claimed.entries.push([id, fields]);
    }
    state.consumers.set(options.pod, now);
    return claimed;
  }

  async keepClaims(pod: string, entries: EntryRef[]): Promise<void> {
    for (const { stream } of entries) this.check("keepClaims", stream);
    for (const { stream, id } of entries) {
      const state = this.stream(stream);
      if (state.held.has(id)) state.held.set(id, { pod, claimedAt: this.now() });
    }
  }

  async trim(stream: string): Promise<string | undefined> {
    this.check("trim", stream);
    const state = this.stream(stream);
    if (!state.group || state.lastDelivered === 0) return undefined;
    const oldestHeld = [...state.held.keys()].sort((a, b) => seq(a) - seq(b))[0];
    // What the trim script keeps: entries still held and entries not yet delivered.
    for (const id of state.entries.keys())
      if (seq(id) <= state.lastDelivered && !state.held.has(id)) state.entries.delete(id);
    return oldestHeld ?? `${state.lastDelivered + 1}-0`;
  }

  async forgetConsumers(stream: string, pod: string, idleMs: number): Promise<string[]> {
    this.check("forgetConsumers", stream);
    const state = this.stream(stream);
    const owners = new Set([...state.held.values()].map((held) => held.pod));
    const removed = [...state.consumers]
      .filter(([name, seenAt]) => name !== pod && !owners.has(name) && this.now() - seenAt > idleMs)
      .map(([name]) => name);
    for (const name of removed) state.consumers.delete(name);
    return removed;
  }

  async counts(stream: string): Promise<ShardCounts> {
    this.check("counts", stream);
    const state = this.stream(stream);
    return {
      length: state.entries.size,
      lag: state.undelivered().length,
      pending: state.held.size,
      read: state.read,
    };
  }

  private check(operation: QueueOperation, stream: string): void {
    const queued = this.failures.get(operation);
    if (queued && queued.length > 0) throw queued.shift();
    if (this.unreachable.has(stream)) throw new Error(`connect ECONNREFUSED (${stream} is unreachable)`);
  }

  private stream(name: string): FakeStream {
    let state = this.streams.get(name);
    if (!state) {
      state = new FakeStream();
      this.streams.set(name, state);
    }
    return state;
  }

  private withGroup(stream: string): FakeStream {
    const state = this.stream(stream);
    if (!state.group)
      throw new Error("NOGROUP No such key or consumer group in XREADGROUP with GROUP option");
    return state;
  }
}
