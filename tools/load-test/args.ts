import { Command, InvalidArgumentError, Option } from "commander";
import { collectApiKey, collectTenant, type Identity, identitiesOf, parsePriority } from "./identities.ts";

export type Mode = "sequential" | "concurrent" | "rate";

/** Everything a run needs, validated and with defaults applied. */
export interface LoadTestOptions {
  mode: Mode;
  /** Base URL of the ingress, without a trailing slash. */
  url: string;
  /** Stop after this many requests (undefined: only the duration bounds the run). */
  count: number | undefined;
  /** Stop issuing requests after this many seconds of measurement (undefined: only the count bounds the run). */
  durationS: number | undefined;
  /** Seconds before measuring starts; requests started during it are sent but not counted. */
  warmupS: number;
  /** Closed model: connections, each sending its next request when the previous answered. Rate mode: cap on requests in flight. */
  concurrency: number;
  /** Open model: requests per second, scheduled on a clock. */
  rate: number | undefined;
  /** Per-request deadline in seconds. */
  timeoutS: number;
  /** Whether --timeout was given, so the server's own deadline (timeoutMs) is set to it too. */
  sendServerTimeout: boolean;
  payload: unknown;
  processingMs: number | undefined;
  async: boolean;
  json: string | undefined;
  html: string | undefined;
  /** Fraction 0..1; above it the process exits non-zero. */
  maxErrorRate: number;
  progress: boolean;
  /** Extra request headers (--header, --priority, and the first identity's X-Tenant or Authorization). */
  headers: Record<string, string>;
  /** Who the requests are sent as, round robin (--tenant, --api-key); one entry when not mixed. */
  identities: Identity[];
}

/** Rate mode's default cap on requests in flight: high enough that the cap is never what a run measures. */
export const DEFAULT_RATE_IN_FLIGHT = 1000;

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1)
      throw new InvalidArgumentError(`${name} must be an integer ≥ 1.`);
    return Number(value);
  };
}

function positiveNumber(name: string, { allowZero = false } = {}) {
  return (value: string): number => {
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
      throw new InvalidArgumentError(`${name} must be a number ${allowZero ? "≥ 0" : "> 0"}.`);
    }
    return number;
  };
}

function nonNegativeInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be an integer ≥ 0.`);
    return Number(value);
  };
}

/** "1%" or "0.01" → 0.01: a percent sign makes the intent unambiguous, a bare number is a fraction. */
export function parseErrorRate(value: string): number {
  const trimmed = value.trim();
  const percent = trimmed.endsWith("%");
  const number = Number(percent ? trimmed.slice(0, -1) : trimmed);
  const fraction = percent ? number / 100 : number;
  if (trimmed === "" || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new InvalidArgumentError("--max-error-rate must be a percentage like 1% or a fraction 0..1.");
  }
  return fraction;
}

/** "Name: value" → [name, value]; repeated --header options accumulate. */
function collectHeader(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const colon = value.indexOf(":");
  const name = colon > 0 ? value.slice(0, colon).trim() : "";
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
    throw new InvalidArgumentError(`--header must look like "Name: value", got "${value}".`);
  return { ...previous, [name.toLowerCase()]: value.slice(colon + 1).trim() };
}

function parsePayload(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`--payload must be JSON (${(error as Error).message}).`);
  }
}

function parseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`--url must be an absolute http(s) URL, got "${value}".`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new InvalidArgumentError(`--url must use http or https, got "${url.protocol}".`);
  }
  return url.toString().replace(/\/+$/, "");
}

/** The command-line interface; exported so tests can check every PowerShell parameter maps to an option here. */
export function buildProgram(): Command {
  return new Command("load-test")
    .description(
      "Load test the redis-stream-demo ingress (POST /api/requests): closed-loop (sequential, concurrent) or open-loop (rate) load, an HDR latency histogram, JSON and HTML reports.",
    )
    .addOption(
      new Option(
        "-m, --mode <mode>",
        "sequential (one at a time), concurrent (closed loop), rate (open loop)",
      )
        .choices(["sequential", "concurrent", "rate"])
        .default("sequential"),
    )
    .addOption(
      new Option("-u, --url <url>", "base URL of the ingress")
        .default("http://localhost:3000")
        .argParser(parseUrl),
    )
    .addOption(
      new Option("-n, --count <n>", "requests to send (default 10 unless --duration)").argParser(
        positiveInt("--count"),
      ),
    )
    .addOption(
      new Option("-d, --duration <s>", "seconds to keep sending").argParser(positiveNumber("--duration")),
    )
    .addOption(
      new Option("--warmup <s>", "seconds of load before measuring (not counted)")
        .default(0)
        .argParser(positiveNumber("--warmup", { allowZero: true })),
    )
    .addOption(
      new Option(
        "-c, --concurrency <n>",
        "connections in concurrent mode (default 10); in-flight cap in rate mode",
      ).argParser(positiveInt("--concurrency")),
    )
    .addOption(
      new Option("-r, --rate <rps>", "requests per second (rate mode)").argParser(positiveNumber("--rate")),
    )
    .addOption(
      new Option(
        "-t, --timeout <s>",
        "per-request deadline in seconds; when given it is also sent as the server's timeoutMs",
      )
        .default(30)
        .argParser(positiveNumber("--timeout")),
    )
    .addOption(
      new Option("-p, --payload <json>", "JSON payload of each request")
        .default({ message: "load-test" }, '{"message":"load-test"}')
        .argParser(parsePayload),
    )
    .addOption(
      new Option(
        "--processing-ms <ms>",
        "ask the simulator to take this long per request (payload.simulate.ms)",
      ).argParser(nonNegativeInt("--processing-ms")),
    )
    .addOption(
      new Option("--async", "use Prefer: respond-async (202) and poll for the result").default(false),
    )
    .addOption(
      new Option("-H, --header <header>", 'extra request header "Name: value" (repeatable)').argParser(
        collectHeader,
      ),
    )
    .addOption(
      new Option(
        "--api-key <key>",
        "send Authorization: Bearer <key> (for an ingress with API_KEYS); repeat it to mix tenants, `tenant:key` labels the key",
      )
        .env("LOAD_TEST_API_KEY")
        .argParser(collectApiKey),
    )
    .addOption(
      new Option(
        "--tenant <name>",
        "send X-Tenant: <name> (an ingress without API keys); repeat it to mix tenants round robin",
      ).argParser(collectTenant),
    )
    .addOption(
      new Option("--priority <u>", "send Priority: u=<u> (RFC 9218 urgency, 0 first … 7)").argParser(
        parsePriority,
      ),
    )
    .addOption(new Option("--json <file>", "write machine-readable results to FILE"))
    .addOption(new Option("--html <file>", "write a self-contained HTML report to FILE"))
    .addOption(
      new Option("--max-error-rate <rate>", "exit non-zero above this error rate (1% or 0.01)")
        .default(0.01, "1%")
        .argParser(parseErrorRate),
    )
    .addOption(
      new Option("--no-progress", "no live progress bar (it is off anyway when stderr is not a terminal)"),
    )
    .showHelpAfterError()
    .allowExcessArguments(false);
}

interface RawOptions {
  mode: Mode;
  url: string;
  count?: number;
  duration?: number;
  warmup: number;
  concurrency?: number;
  rate?: number;
  timeout: number;
  payload: unknown;
  processingMs?: number;
  async: boolean;
  json?: string;
  html?: string;
  maxErrorRate: number;
  progress: boolean;
  header?: Record<string, string>;
  apiKey?: string[];
  tenant?: string[];
  priority?: number;
}

/** Parses argv (without the runtime and script) into options; commander prints the error and exits on bad input. */
export function parseOptions(argv: string[], program: Command = buildProgram()): LoadTestOptions {
  program.parse(argv, { from: "user" });
  const raw = program.opts<RawOptions>();
  const modeGiven = program.getOptionValueSource("mode") !== "default";
  // Saying how fast (--rate) or how wide (--concurrency) already says which model is meant.
  let mode: Mode = raw.mode;
  if (!modeGiven && raw.rate !== undefined) mode = "rate";
  else if (!modeGiven && raw.concurrency !== undefined) mode = "concurrent";

  if (mode === "rate" && raw.rate === undefined)
    program.error("error: rate mode needs --rate <requests per second>.");
  if (mode !== "rate" && raw.rate !== undefined)
    program.error(`error: --rate only applies to rate mode, not ${mode}.`);
  if (mode === "sequential" && raw.concurrency !== undefined && raw.concurrency !== 1) {
    program.error(
      "error: sequential mode sends one request at a time; use --mode concurrent for --concurrency.",
    );
  }

  let payload = raw.payload;
  if (raw.processingMs !== undefined) {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      program.error("error: --processing-ms needs a JSON object payload (it sets payload.simulate.ms).");
    }
    const object = payload as Record<string, unknown>;
    const simulate = typeof object.simulate === "object" && object.simulate !== null ? object.simulate : {};
    payload = { ...object, simulate: { ...simulate, ms: raw.processingMs } };
  }

  const priority: Record<string, string> =
    raw.priority === undefined ? {} : { priority: `u=${raw.priority}` };
  // Each identity's full header set: the shared headers, then its own X-Tenant or Authorization.
  const identities = identitiesOf(raw.tenant ?? [], raw.apiKey ?? []).map((identity) => ({
    label: identity.label,
    headers: { ...raw.header, ...priority, ...identity.headers },
  }));
  const concurrency =
    mode === "sequential" ? 1 : (raw.concurrency ?? (mode === "concurrent" ? 10 : DEFAULT_RATE_IN_FLIGHT));
  return {
    mode,
    url: raw.url,
    count: raw.count ?? (raw.duration === undefined ? 10 : undefined),
    durationS: raw.duration,
    warmupS: raw.warmup,
    concurrency,
    rate: raw.rate,
    timeoutS: raw.timeout,
    sendServerTimeout: program.getOptionValueSource("timeout") !== "default",
    payload,
    processingMs: raw.processingMs,
    async: raw.async,
    json: raw.json,
    html: raw.html,
    maxErrorRate: raw.maxErrorRate,
    progress: raw.progress,
    headers: identities[0]?.headers ?? {},
    identities,
  };
}
