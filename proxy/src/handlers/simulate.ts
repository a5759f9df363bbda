import type { ForwardedResponse } from "@rsd/shared";
import type { Handler, HandlerRequest } from "./handler.ts";

interface SimulateOptions {
  simulate?: { ms?: unknown; fail?: unknown };
}

export class SimulatedFailure extends Error {
  override name = "SimulatedFailure";
}

/** Waits `ms`, or rejects as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** A forwarded request (ANY /proxy/*) is answered 200 with the request it received, as JSON. */
function echoForwarded(payload: string): string {
  const body = Buffer.from(`{"echo":${payload}}`).toString("base64");
  const response: ForwardedResponse = { status: 200, headers: [["content-type", "application/json"]], body };
  return JSON.stringify(response);
}

/**
 * The default backend: waits PROCESSING_MS and echoes the payload. `{"simulate": {"ms": N}}`
 * overrides the time (capped by MAX_TIMEOUT_MS); `{"simulate": {"fail": true}}` throws.
 */
export class SimulateHandler implements Handler {
  readonly name = "simulate";

  constructor(
    private readonly processingMs: number,
    private readonly maxMs: number,
  ) {}

  get nominalMs(): number {
    return this.processingMs;
  }

  async handle(request: HandlerRequest): Promise<string> {
    let ms = this.processingMs;
    let fail = false;
    // Only parse what might carry options: the common case splices the payload text unparsed.
    if (request.payload.includes('"simulate"')) {
      const options = JSON.parse(request.payload) as SimulateOptions | null;
      const wanted = options?.simulate?.ms;
      if (typeof wanted === "number" && Number.isFinite(wanted))
        ms = Math.min(Math.max(0, wanted), this.maxMs);
      fail = options?.simulate?.fail === true;
    }
    if (ms > 0) await sleep(ms, request.signal);
    if (fail) throw new SimulatedFailure("simulated failure (payload asked for simulate.fail)");
    return request.kind === "http" ? echoForwarded(request.payload) : `{"echo":${request.payload}}`;
  }
}
