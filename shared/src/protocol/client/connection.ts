/** One Redis command: its name and its arguments, as both adapters send them. */
export type Command = [name: string, args: string[]];

/**
 * What an adapter gives the typed client (redis-client.ts): a way to send commands to Redis, and
 * the connection's life. Two adapters implement it: Bun's native client on one Redis
 * (native-connection.ts) and an ioredis Cluster client (cluster-connection.ts), which Bun's client
 * cannot replace. Replies come back in either RESP shape; the typed client reads both.
 */
export interface Connection {
  /** Connected and usable now; commands sent while not ready fail at once (no offline queue). */
  readonly ready: boolean;
  /** True for a Redis Cluster: keys of one call may live on different nodes. */
  readonly cluster: boolean;
  /**
   * One command. Every command asked for in one event-loop turn leaves in one socket write
   * (auto-pipelining): the batching of the hot path lives here, not in its callers.
   */
  send(command: string, args: string[]): Promise<unknown>;
  /**
   * MULTI … EXEC on one connection (one node: the keys must share a slot). Rejects with the error
   * of the command Redis refused when it was queued (then nothing ran), or with the connection's.
   * The results of commands that failed inside the transaction are Error objects.
   */
  transaction(commands: Command[]): Promise<unknown[]>;
  /** The same command on every master (on one Redis: on it), for node-wide facts such as INFO. */
  everyMaster(command: string, args: string[]): Promise<unknown[]>;
  /** Resolves true once ready, false when `timeoutMs` passes or `signal` aborts first. */
  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Called each time the connection becomes ready (again): Redis may have restarted empty. */
  onReady(listener: () => void): void;
  /** Closes for good: commands in flight fail, and it never reconnects. */
  close(): void;
}

/** Reconnect quickly at first, then every 2 s at most, with jitter so a fleet does not stampede. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(base / 2 + Math.random() * (base / 2));
}
