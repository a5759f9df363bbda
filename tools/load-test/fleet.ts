/** What the ingress says about the fleet behind it (GET /api/fleet); older servers answer 404. */
export interface Fleet {
  pods: number;
  terminals: number;
  busy: number;
  processingMs: number | null;
  theoreticalRps: number | null;
}

export interface Capacity {
  fleet: Fleet | null;
  /** Requests per second the fleet can complete at most: terminals ÷ processing time. */
  theoreticalRps: number | null;
  /** Where the processing time came from. */
  basis: "--processing-ms" | "server" | null;
}

export async function fetchFleet(
  baseUrl: string,
  headers: Record<string, string> = {},
  timeoutMs = 2000,
): Promise<Fleet | null> {
  try {
    const response = await fetch(`${baseUrl}/api/fleet`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) {
      await response.body?.cancel();
      return null;
    }
    const body = (await response.json()) as Partial<Fleet>;
    if (typeof body.terminals !== "number" || typeof body.pods !== "number") return null;
    return {
      pods: body.pods,
      terminals: body.terminals,
      busy: typeof body.busy === "number" ? body.busy : 0,
      processingMs: typeof body.processingMs === "number" ? body.processingMs : null,
      theoreticalRps: typeof body.theoreticalRps === "number" ? body.theoreticalRps : null,
    };
  } catch {
    return null;
  }
}

/** The run's own --processing-ms overrides the server's default, since every request asks for it. */
export function capacityOf(fleet: Fleet | null, processingMs: number | undefined): Capacity {
  if (fleet && processingMs !== undefined && processingMs > 0) {
    return { fleet, theoreticalRps: fleet.terminals / (processingMs / 1000), basis: "--processing-ms" };
  }
  if (fleet && fleet.theoreticalRps !== null)
    return { fleet, theoreticalRps: fleet.theoreticalRps, basis: "server" };
  return { fleet, theoreticalRps: null, basis: null };
}
