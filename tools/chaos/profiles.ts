/** How hard and how long a run pushes: `quick` is CI's (whole run ≤ 90 s on a loaded 2-core machine), `full` the 10-minute soak. */
export interface Profile {
  name: "quick" | "full";
  /** Seconds of load (faults happen inside it). */
  durationS: number;
  /** Requests started per second, spread over both ingresses. */
  rate: number;
  /** Requests in flight at most (a request past it is not sent, and counted as skipped). */
  maxInFlight: number;
  /** Seconds between the starts of two fault slots. */
  slotS: number;
  /** Quiet seconds at the end of the load, after the last slot started, to recover in. */
  tailS: number;
  /** Share of slots that get a second fault at the same time (faults in combination). */
  overlapShare: number;
  /** Requests fired at once by the burst fault (async, so they hold no connection). */
  burstSize: number;
  /** The ingresses' MAX_QUEUE_DEPTH, which the burst goes past. */
  maxQueueDepth: number;
}

export const profiles: Record<Profile["name"], Profile> = {
  quick: {
    name: "quick",
    durationS: 55,
    rate: 25,
    maxInFlight: 400,
    slotS: 5,
    tailS: 8,
    overlapShare: 0,
    burstSize: 300,
    maxQueueDepth: 60,
  },
  full: {
    name: "full",
    durationS: 600,
    rate: 60,
    maxInFlight: 800,
    slotS: 12,
    tailS: 15,
    overlapShare: 0.35,
    burstSize: 600,
    maxQueueDepth: 120,
  },
};

/** Settings every service of the chaos stack shares, chosen so faults resolve inside a slot. */
export const stackSettings = {
  /** The requests' deadline (timeoutMs / X-Timeout-Ms). */
  requestTimeoutMs: 8_000,
  /** Above the default's third (5 s) but short: a reclaim fits in a deadline, and a starved pod on a loaded machine keeps its claims. */
  claimIdleMs: 3_000,
  maxDeliveries: 3,
  shutdownGraceMs: 3_000,
  terminals: 5,
  proxies: 3,
  ingresses: 2,
  /** The services' Redis watchdog declares a silent server hung after 2 s (plus a blocking read's time). */
  redisPauseMs: 4_500,
  /** How long Redis stays down when it is restarted. */
  redisDownMs: 1_500,
} as const;
