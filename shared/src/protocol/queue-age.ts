import { isRedisError } from "./client/replies.ts";
import { ProtocolOperations } from "./operations.ts";

/**
 * How long the oldest request of a stream has waited for a proxy: the first entry after the
 * consumer group's last-delivered id (two commands per stream; the console reads it once a
 * second, never per request).
 */
export class QueueAge extends ProtocolOperations {
  /** Epoch ms (Redis's clock: the entry id) of the oldest entry no proxy has read, or undefined when none waits. */
  async oldestWaiting(stream: string): Promise<number | undefined> {
    const groups = await this.client.xinfoGroups(stream).catch((error: unknown) => {
      if (isRedisError(error, "ERR")) return []; // no such stream yet
      throw error;
    });
    const group = groups.find((candidate) => candidate.name === this.keys.group);
    const lastDelivered = group ? String(group["last-delivered-id"] ?? "0-0") : undefined;
    const [entry] = await this.client.xrange(stream, lastDelivered ? `(${lastDelivered}` : "-", "+", 1);
    return entry ? Number(entry[0].split("-")[0]) : undefined;
  }

  /** Redis's clock, epoch ms (the ages are measured against it). */
  now(): Promise<number> {
    return this.client.time();
  }
}
