/**
 * Format version of a proxy's heartbeat: JSON in the hash `<prefix>:fleet`, field = pod name.
 * Properties are only ever added; readers ignore the ones they do not know.
 */
export const heartbeatFormatVersion = 1;

/** What one proxy says about itself every few seconds. */
export interface ProxyHeartbeat {
  pod: string;
  terminals: number;
  busy: number;
  handler: string;
  /** The handler's nominal processing time, when it has one (the simulator). */
  processingMs: number | null;
  /** Epoch ms of the proxy's clock when it wrote this. */
  seenAt: number;
  /**
   * The concurrency limit it applies now (appended in format version 1: TERMINALS, or the
   * adaptive limit). A heartbeat of an older proxy has none; it reads as `terminals`.
   */
  limit: number;
}

export function encodeHeartbeat(beat: ProxyHeartbeat): string {
  return JSON.stringify(beat);
}

/** A heartbeat, or undefined for a value that is not one (it is then treated as gone). */
export function decodeHeartbeat(text: string): ProxyHeartbeat | undefined {
  let value: Partial<ProxyHeartbeat>;
  try {
    value = JSON.parse(text) as Partial<ProxyHeartbeat>;
  } catch {
    return undefined;
  }
  if (
    typeof value?.pod !== "string" ||
    typeof value.terminals !== "number" ||
    typeof value.busy !== "number" ||
    typeof value.seenAt !== "number"
  )
    return undefined;
  return {
    pod: value.pod,
    terminals: value.terminals,
    busy: value.busy,
    handler: typeof value.handler === "string" ? value.handler : "",
    processingMs: typeof value.processingMs === "number" ? value.processingMs : null,
    seenAt: value.seenAt,
    limit: typeof value.limit === "number" ? value.limit : value.terminals,
  };
}
