import type { StreamKeys } from "@rsd/shared";
import type Redis from "ioredis";

/**
 * Tells the fleet registry (`<prefix>:fleet`) that this proxy lives, with its terminals and
 * processing time, so the ingress can report capacity (GET /api/fleet) to load testers.
 */
export class FleetHeartbeat {
  constructor(
    private readonly redis: Redis,
    private readonly keys: StreamKeys,
    private readonly pod: string,
    private readonly describe: () => {
      terminals: number;
      busy: number;
      handler: string;
      processingMs: number | null;
    },
  ) {}

  async beat(): Promise<void> {
    await this.redis.hset(
      this.keys.fleet,
      this.pod,
      JSON.stringify({ pod: this.pod, ...this.describe(), seenAt: Date.now() }),
    );
  }

  async leave(): Promise<void> {
    await this.redis.hdel(this.keys.fleet, this.pod);
  }
}
