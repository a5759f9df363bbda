import type { RedisClient } from "./client/redis-client.ts";

interface Queued {
  stream: string;
  fields: string[];
  onSent: (() => void) | undefined;
  onError: (error: unknown) => void;
}

/**
 * XADDs in batches: every one asked for in one turn of the event loop is sent together at the
 * end of that turn (setImmediate), so the connection's auto-pipelining puts them in one socket
 * write instead of one per HTTP request. A zero-delay timer would batch more but costs a whole
 * millisecond in Bun (timers have 1 ms resolution), and with a bounded number of clients every
 * millisecond of latency is throughput lost.
 */
export class TurnBatch {
  private queued: Queued[] = [];

  constructor(private readonly client: RedisClient) {}

  xadd(stream: string, fields: string[], onError: (error: unknown) => void, onSent?: () => void): void {
    if (this.queued.length === 0) setImmediate(() => this.flush());
    this.queued.push({ stream, fields, onSent, onError });
  }

  private flush(): void {
    const queued = this.queued;
    this.queued = [];
    for (const { stream, fields, onSent, onError } of queued)
      this.client.xadd(stream, fields).then(onSent, onError);
  }
}
