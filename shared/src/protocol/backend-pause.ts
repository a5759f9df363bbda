import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";
import { scripts } from "./scripts/index.ts";

/**
 * The fleet-wide pause toward the backend (`<prefix>:pause`): a key whose time to live is the
 * pause left, so no clock but Redis's is involved. Set when the backend answers 429 or 503 with
 * Retry-After (BACKEND_PAUSE=on); every proxy stops reading while it exists.
 */
export class BackendPause {
  private readonly client: RedisClient;
  private readonly key: string;

  constructor(options: { client: RedisClient; keys: StreamKeys }) {
    this.client = options.client;
    this.key = options.keys.backendPause;
  }

  /** Pauses for at least `ms` (a longer pause in place is kept); the pause left, ms. */
  async pause(ms: number): Promise<number> {
    return Number(await this.client.runScript(scripts.pause, this.key, [String(Math.max(1, Math.ceil(ms)))]));
  }

  /** The pause left, ms (0 = not paused). */
  async left(): Promise<number> {
    return await this.client.pttl(this.key);
  }
}
