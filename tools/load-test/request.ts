import { causeOfError, causeOfStatus, type Outcome } from "./outcome.ts";

/** What every request of a run shares; the body is serialised once, not per request. */
export interface RequestTarget {
  baseUrl: string;
  body: string;
  /** Client-side deadline for the whole exchange (polling included). */
  deadlineMs: number;
  async: boolean;
  /** Extra headers (authorization, tracing…) sent with every request, polls included. */
  headers: Record<string, string>;
  /** The identity's label, when the run mixes several (each outcome then carries it). */
  tenant?: string;
}

/** Sends one request and waits for its final answer (polling when async); never throws. */
export async function sendRequest(target: RequestTarget): Promise<Outcome> {
  const outcome = await send(target);
  if (target.tenant !== undefined) outcome.tenant = target.tenant;
  return outcome;
}

async function send(target: RequestTarget): Promise<Outcome> {
  const signal = AbortSignal.timeout(target.deadlineMs);
  const jsonHeaders = { ...target.headers, "content-type": "application/json", accept: "application/json" };
  const deadline = performance.now() + target.deadlineMs;
  try {
    const response = await fetch(`${target.baseUrl}/api/requests`, {
      method: "POST",
      headers: target.async ? { ...jsonHeaders, prefer: "respond-async" } : jsonHeaders,
      body: target.body,
      signal,
    });
    if (response.status === 202 && target.async) {
      const location = response.headers.get("location");
      await response.body?.cancel();
      if (!location) return { status: 202, cause: "unexpected-body" };
      return await poll(new URL(location, target.baseUrl).toString(), jsonHeaders, signal, deadline);
    }
    return await finalOutcome(response);
  } catch (error) {
    return { status: null, cause: causeOfError(error) };
  }
}

/** Polls the result URL until it is no longer pending; the pause grows with the wait so long jobs cost few polls. */
async function poll(
  url: string,
  jsonHeaders: Record<string, string>,
  signal: AbortSignal,
  deadline: number,
): Promise<Outcome> {
  const started = performance.now();
  for (;;) {
    const response = await fetch(url, { headers: jsonHeaders, signal });
    if (response.status !== 202) return await finalOutcome(response);
    await response.body?.cancel();
    const now = performance.now();
    const pause = Math.min(250, Math.max(5, (now - started) / 10), deadline - now);
    if (pause <= 0) return { status: 202, cause: "timeout" };
    await Bun.sleep(pause);
  }
}

async function finalOutcome(response: Response): Promise<Outcome> {
  const text = await response.text();
  if (response.status !== 200) return { status: response.status, cause: causeOfStatus(response.status) };
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { status: 200, cause: "unexpected-body" };
  }
  if (body.status !== "completed") return { status: 200, cause: "unexpected-body" };
  return {
    status: 200,
    cause: "ok",
    pod: typeof body.pod === "string" ? body.pod : undefined,
    queuedMs: typeof body.queuedMs === "number" ? body.queuedMs : undefined,
    processingMs: typeof body.processingMs === "number" ? body.processingMs : undefined,
  };
}
