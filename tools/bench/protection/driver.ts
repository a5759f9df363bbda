/** One answered request, as the protection scenarios count them. */
export interface Answer {
  /** ms since the run's start when it was sent, and when it was answered. */
  sentAt: number;
  doneAt: number;
  status: number;
  retryAfter: string | null;
}

/** The most answers one run keeps (every buffer has a bound). */
const maxAnswers = 500_000;

export interface DriveOptions {
  url: string;
  durationMs: number;
  timeoutMs: number;
  /** Closed loop: this many connections, each sending its next request when answered. */
  connections?: number;
  /** Open loop: requests per second on a clock, at most `maxInFlight` outstanding. */
  rate?: number;
  maxInFlight?: number;
}

/**
 * Drives POST /api/requests for a bounded time, closed or open loop, and returns every answer
 * with its timing, so a scenario can count goodput (200 within the deadline), 503s and 504s per
 * second. Requests are aborted at the deadline + 5 s: nothing waits unbounded. Closed-loop clients
 * honour a 503's Retry-After (up to a second); the open loop does not, it is the offered load.
 */
export async function drive(options: DriveOptions): Promise<{ answers: Answer[]; startedAt: number }> {
  const startedAt = Date.now();
  const endAt = startedAt + options.durationMs;
  const answers: Answer[] = [];
  const body = JSON.stringify({ payload: { bench: "protection" }, timeoutMs: options.timeoutMs });
  const send = async (): Promise<number> => {
    const sentAt = Date.now() - startedAt;
    let status = 0;
    let retryAfter: string | null = null;
    try {
      const response = await fetch(`${options.url}/api/requests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(options.timeoutMs + 5000),
      });
      await response.arrayBuffer();
      status = response.status;
      retryAfter = response.headers.get("retry-after");
    } catch {
      status = 0;
    }
    if (answers.length < maxAnswers)
      answers.push({ sentAt, doneAt: Date.now() - startedAt, status, retryAfter });
    // A well-behaved client waits as told (at most a second here, so the run keeps measuring).
    return status === 503 && retryAfter ? Math.min(1000, Number(retryAfter) * 1000) : 0;
  };
  if (options.rate) {
    let inFlight = 0;
    const pending = new Set<Promise<void>>();
    const perTick = options.rate / 100;
    let owed = 0;
    while (Date.now() < endAt) {
      owed += perTick;
      for (; owed >= 1; owed--) {
        if (inFlight >= (options.maxInFlight ?? 2000)) continue;
        inFlight++;
        const request: Promise<void> = send().then(() => {
          inFlight--;
          pending.delete(request);
        });
        pending.add(request);
      }
      await Bun.sleep(10);
    }
    await Promise.all(pending);
  } else {
    await Promise.all(
      Array.from({ length: options.connections ?? 1 }, async () => {
        while (Date.now() < endAt) {
          const backOffMs = await send();
          if (backOffMs > 0) await Bun.sleep(Math.min(backOffMs, Math.max(0, endAt - Date.now())));
        }
      }),
    );
  }
  return { answers, startedAt };
}

/** 200s answered within their deadline per second, over answers sent in [fromMs, toMs). */
export function goodput(answers: Answer[], timeoutMs: number, fromMs: number, toMs: number): number {
  const good = answers.filter(
    (a) => a.status === 200 && a.sentAt >= fromMs && a.sentAt < toMs && a.doneAt - a.sentAt <= timeoutMs,
  ).length;
  return good / ((toMs - fromMs) / 1000);
}

/** The q-quantile (0…1) of the latencies of answers with `status`, ms; 0 when there are none. */
export function latencyQuantile(answers: Answer[], status: number, q: number): number {
  const latencies = answers
    .filter((a) => a.status === status)
    .map((a) => a.doneAt - a.sentAt)
    .sort((x, y) => x - y);
  if (latencies.length === 0) return 0;
  return latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] as number;
}

export function countStatus(answers: Answer[], status: number): number {
  return answers.filter((a) => a.status === status).length;
}
