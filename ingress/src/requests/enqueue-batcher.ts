import type Redis from "ioredis";

interface Pending {
  fields: string[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Adds requests to the stream in batches: every XADD asked for in one turn of the event loop
 * leaves in one pipeline (one write), instead of one socket write per HTTP request. Under load
 * that is most of what the ingress spends per request; when idle a batch is a single request
 * and costs one `setImmediate`.
 */
export class EnqueueBatcher {
  private batch: Pending[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
  ) {}

  add(fields: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => void this.flush());
      this.batch.push({ fields, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.batch;
    this.batch = [];
    const pipeline = this.redis.pipeline();
    for (const { fields } of batch) pipeline.xadd(this.stream, "*", ...fields);
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
