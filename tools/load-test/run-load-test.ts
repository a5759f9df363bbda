import type { LoadTestOptions } from "./args.ts";
import { capacityOf, fetchFleet } from "./fleet.ts";
import { startProgress } from "./progress.ts";
import { sendRequest } from "./request.ts";
import { buildResult, type LoadTestResult } from "./result.ts";
import { startRun } from "./runner.ts";

/** A server that ignores its own deadline is cut off this long after it. */
const CLIENT_GRACE_MS = 1000;

/** The request body every request of the run sends (serialised once). */
export function requestBody(options: LoadTestOptions): string {
  const timeoutMs = Math.max(1, Math.round(options.timeoutS * 1000));
  return JSON.stringify(
    options.sendServerTimeout ? { payload: options.payload, timeoutMs } : { payload: options.payload },
  );
}

/**
 * Runs one load test and returns its result; printing, files and the exit code are the caller's.
 * `signal` stops issuing new requests early (Ctrl-C); answers still in flight are awaited.
 */
export async function runLoadTest(options: LoadTestOptions, signal?: AbortSignal): Promise<LoadTestResult> {
  const body = requestBody(options);
  const timeoutMs = Math.max(1, Math.round(options.timeoutS * 1000));
  const target = {
    baseUrl: options.url,
    body,
    deadlineMs: options.sendServerTimeout ? timeoutMs + CLIENT_GRACE_MS : timeoutMs,
    async: options.async,
    headers: options.headers,
  };
  // Several identities (--tenant, --api-key): round robin, each outcome labelled with its identity.
  const mixed = options.identities.length > 1;
  const targets = options.identities.map((identity) => ({
    ...target,
    headers: identity.headers,
    ...(mixed ? { tenant: identity.label } : {}),
  }));
  let next = 0;
  const fleetBefore = await fetchFleet(options.url, options.headers);
  const startedAt = new Date();
  const run = startRun(options, () => sendRequest(targets[next++ % targets.length] ?? target));
  const onAbort = () => run.stop();
  signal?.addEventListener("abort", onAbort);
  const stopProgress = startProgress(run.recorder, options, options.progress);
  try {
    await run.done;
  } finally {
    stopProgress();
    signal?.removeEventListener("abort", onAbort);
  }
  const elapsedS = (performance.now() - run.recorder.startedAt) / 1000;
  // Asked again after the run: proxies that joined (or first sent their heartbeat) meanwhile count.
  const fleetAfter = await fetchFleet(options.url, options.headers);
  const fleet =
    (fleetAfter?.terminals ?? 0) > (fleetBefore?.terminals ?? 0) ? fleetAfter : (fleetBefore ?? fleetAfter);
  return buildResult(
    options,
    body,
    startedAt,
    elapsedS,
    run.recorder,
    capacityOf(fleet, options.processingMs),
    signal?.aborted ?? false,
  );
}
