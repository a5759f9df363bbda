import type Redis from "ioredis";

interface Pending {
  fields: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Adds requests to their stream in batches: every XADD asked for in one turn of the event loop
 * leaves in one pipeline per stream (one write), instead of one socket write per HTTP request.
 * Under load that is most of what the ingress spends per request; when idle a batch is a single
 * request and costs one zero-delay timer (a timer, not setImmediate, lets the requests of the next
 * event-loop turns join the batch). One pipeline per stream keeps each batch in one slot, as
 * Redis Cluster requires.
 */
export class EnqueueBatcher {
  private batches = new Map<string, Pending[]>();

  constructor(
    private readonly redis: Redis,
    /**
     * Redis Cluster: no explicit pipelines. A cluster pipeline caught by a slots refresh was seen
     * never to settle, stranding its requests until their deadline; single commands are
     * auto-pipelined per node by the cluster client and fail or succeed on their own.
     */
    private readonly cluster = false,
  ) {}

  add(stream: string, fields: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.batches.size === 0) setTimeout(() => this.flush(), 0);
      let batch = this.batches.get(stream);
      if (!batch) {
        batch = [];
        this.batches.set(stream, batch);
      }
      batch.push({ fields, resolve, reject });
    });
  }

  private flush(): void {
    const batches = this.batches;
    this.batches = new Map();
    for (const [stream, batch] of batches) void this.send(stream, batch);
  }

  private async send(stream: string, batch: Pending[]): Promise<void> {
    if (this.cluster) {
      for (const { fields, resolve, reject } of batch) {
        this.redis.xadd(stream, "*", ...fields).then(() => resolve(), reject);
      }
      return;
    }
    const pipeline = this.redis.pipeline();
    for (const { fields } of batch) pipeline.xadd(stream, "*", ...fields);
    try {
      const results = (await pipeline.exec()) ?? [];
      batch.forEach(({ resolve, reject }, index) => {
        const error = results[index]?.[0];
        if (error) reject(error);
        else resolve();
      });
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }
}
