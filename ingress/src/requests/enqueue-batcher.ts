import type { StreamConnection } from "@rsd/shared";

interface Pending {
  stream: string;
  fields: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Adds requests to their stream in batches: every XADD asked for in one turn of the event loop
 * is sent together at the end of that turn (setImmediate), so the connection's auto-pipelining
 * puts them in one socket write instead of one per HTTP request. A zero-delay timer would batch
 * more but costs a whole millisecond in Bun (timers have 1 ms resolution), and with a bounded
 * number of clients every millisecond of latency is throughput lost.
 */
export class EnqueueBatcher {
  private batch: Pending[] = [];

  constructor(private readonly connection: StreamConnection) {}

  add(stream: string, fields: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.flush());
      this.batch.push({ stream, fields, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    for (const { stream, fields, resolve, reject } of batch) {
      this.connection.send("XADD", [stream, "*", ...fields]).then(() => resolve(), reject);
    }
  }
}
