import type { StreamConnection } from "@rsd/shared";

interface Enqueued {
  stream: string;
  fields: string[];
  onSent: (() => void) | undefined;
  onError: (error: unknown) => void;
}

/**
 * Adds requests to their stream in batches: every XADD asked for in one turn of the event loop
 * is sent together at the end of that turn (setImmediate), so the connection's auto-pipelining
 * puts them in one socket write instead of one per HTTP request. A zero-delay timer would batch
 * more but costs a whole millisecond in Bun (timers have 1 ms resolution), and with a bounded
 * number of clients every millisecond of latency is throughput lost.
 *
 * Callbacks rather than a promise per request: a synchronous request only needs to hear about a
 * failure (its wait is already registered), and this runs for every request.
 */
export class EnqueueBatcher {
  private batch: Enqueued[] = [];

  constructor(private readonly connection: StreamConnection) {}

  /** Queues one XADD; `onError` hears why it failed, `onSent` (if given) that Redis took it. */
  add(stream: string, fields: string[], onError: (error: unknown) => void, onSent?: () => void): void {
    if (this.batch.length === 0) setImmediate(() => this.flush());
    this.batch.push({ stream, fields, onSent, onError });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    for (const { stream, fields, onSent, onError } of batch)
      this.connection.send("XADD", [stream, "*", ...fields]).then(onSent, onError);
  }
}
