import { ProtocolOperations } from "./operations.ts";
import { decodeHeartbeat, encodeHeartbeat, type ProxyHeartbeat } from "./records/heartbeat.ts";

/** A heartbeat older than this belongs to a proxy that is gone. */
export const heartbeatLiveWithinMs = 10_000;

/** The proxies' heartbeats (`<prefix>:fleet`, a hash of pod → heartbeat). */
export class FleetRegistry extends ProtocolOperations {
  async beat(heartbeat: ProxyHeartbeat): Promise<void> {
    await this.client.hset(this.keys.fleet, heartbeat.pod, encodeHeartbeat(heartbeat));
  }

  async leave(pod: string): Promise<void> {
    await this.client.hdel(this.keys.fleet, [pod]);
  }

  /** The live heartbeats; those long gone (or unreadable) are removed on the way. */
  async live(now = Date.now()): Promise<ProxyHeartbeat[]> {
    const entries = await this.client.hgetall(this.keys.fleet);
    const live: ProxyHeartbeat[] = [];
    const gone: string[] = [];
    for (const [pod, text] of Object.entries(entries)) {
      const beat = decodeHeartbeat(text);
      if (beat && now - beat.seenAt <= heartbeatLiveWithinMs) live.push(beat);
      else if (!beat || now - beat.seenAt > 6 * heartbeatLiveWithinMs) gone.push(pod);
    }
    await this.client.hdel(this.keys.fleet, gone);
    return live;
  }
}
