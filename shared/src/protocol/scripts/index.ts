import { readFileSync } from "node:fs";

/**
 * A Lua script of the protocol (BullMQ's commands/ idea): each multi-step operation that must be
 * atomic lives in its own .lua file here, touches one key (so Redis Cluster routes it, and it is
 * atomic on that key's node), and is called by SHA, falling back to its text once per node. The
 * one exception, replay-dead-letter, spans three keys and runs only on a single Redis.
 */
export interface LuaScript {
  readonly name: string;
  readonly lua: string;
  readonly sha: string;
}

function load(name: string): LuaScript {
  const lua = readFileSync(new URL(`./${name}.lua`, import.meta.url), "utf8");
  return { name, lua, sha: new Bun.CryptoHasher("sha1").update(lua).digest("hex") };
}

export const scripts = {
  /** Re-enqueue for another attempt and ack the original, only while the caller holds it. */
  requeue: load("requeue"),
  /** Trim a request stream below its oldest unacknowledged entry. */
  trim: load("trim"),
  /** Remove gone consumers that own nothing. */
  forgetConsumers: load("forget-consumers"),
  /** Re-enqueue a dead letter as a fresh request, then delete it (three keys: one Redis only). */
  replayDeadLetter: load("replay-dead-letter"),
  /** TENANT_LANES: pick and read a shard's lanes by weighted fairness (keys of one slot). */
  dispatch: load("dispatch"),
  /** Take (or give back) tokens of the fleet-wide rate limit (GCRA, Redis's clock). */
  gcra: load("gcra"),
  /** Pause the fleet's calls to the backend for at least N ms (never shortens a pause). */
  pause: load("pause"),
  /** Read, report outcomes to, or take half-open probes from the fleet's circuit breaker. */
  breaker: load("breaker"),
} as const;
