import { Command, InvalidArgumentError, Option } from "commander";
import type { FragileSettings } from "./model.ts";
import { parseKneeChange, parseWindow } from "./windows.ts";

export interface FragileArgs {
  host: string;
  port: number;
  settings: FragileSettings;
  maxInflight: number;
  throttleRetryAfterS: number;
  outages: { startMs: number; durationMs: number }[];
  throttles: { startMs: number; durationMs: number }[];
  kneeChanges: { atMs: number; knee: number }[];
  /** Stop by itself after this many seconds (0 = at SIGTERM/SIGINT only). */
  durationS: number;
}

function bounded(name: string, min: number, max: number, integer = true) {
  return (value: string): number => {
    const number = Number(value);
    if (
      value.trim() === "" ||
      !Number.isFinite(number) ||
      number < min ||
      number > max ||
      (integer && !Number.isInteger(number))
    )
      throw new InvalidArgumentError(
        `${name} must be ${integer ? "an integer" : "a number"} from ${min} to ${max}.`,
      );
    return number;
  };
}

function collect<T>(name: string, parse: (text: string) => T | undefined, shape: string) {
  return (value: string, previous: T[] = []): T[] => {
    const parsed = parse(value);
    if (parsed === undefined)
      throw new InvalidArgumentError(`${name} must look like ${shape}, got "${value}".`);
    if (previous.length >= 64) throw new InvalidArgumentError(`at most 64 ${name} options.`);
    return [...previous, parsed];
  };
}

export function buildProgram(): Command {
  return new Command("fragile-backend")
    .description(
      "A deliberately fragile HTTP backend for trying the gateway's protections: a concurrency knee, a 429 quota, outage windows, throttle storms and latency noise. Admin: GET /_admin/stats, POST /_admin/settings|outage|throttle.",
    )
    .addOption(new Option("--host <host>", "address to listen on").default("127.0.0.1"))
    .addOption(
      new Option("-p, --port <port>", "port (0 = a free one)")
        .env("PORT")
        .default(4000)
        .argParser(bounded("--port", 0, 65535)),
    )
    .addOption(
      new Option("--base-ms <ms>", "latency up to the knee")
        .default(40)
        .argParser(bounded("--base-ms", 0, 60_000)),
    )
    .addOption(
      new Option("--knee <n>", "concurrent calls before latency grows")
        .default(16)
        .argParser(bounded("--knee", 1, 100_000)),
    )
    .addOption(
      new Option("--error-at <n>", "concurrent calls past which every call answers 500 (0 = 2 × knee)")
        .default(0)
        .argParser(bounded("--error-at", 0, 100_000)),
    )
    .addOption(
      new Option("--noise <fraction>", "± random share of every latency")
        .default(0.1)
        .argParser(bounded("--noise", 0, 1, false)),
    )
    .addOption(
      new Option("--quota-rps <n>", "calls per second before 429 + Retry-After: 1 (0 = none)")
        .default(0)
        .argParser(bounded("--quota-rps", 0, 1_000_000)),
    )
    .addOption(
      new Option(
        "--outage <start+duration>",
        "500 for every call from start ms for duration ms (repeatable)",
      ).argParser(collect("--outage", parseWindow, "5000+3000")),
    )
    .addOption(
      new Option(
        "--throttle <start+duration>",
        "429 + Retry-After for every call in that window (repeatable)",
      ).argParser(collect("--throttle", parseWindow, "5000+3000")),
    )
    .addOption(
      new Option("--throttle-retry-after <s>", "Retry-After of throttle windows, seconds")
        .default(2)
        .argParser(bounded("--throttle-retry-after", 0, 3600)),
    )
    .addOption(
      new Option(
        "--knee-change <at:knee>",
        "set the knee at that many ms after start, e.g. 20000:8 (repeatable)",
      ).argParser(collect("--knee-change", parseKneeChange, "20000:8")),
    )
    .addOption(
      new Option("--max-inflight <n>", "calls held at once before answering 503 at once")
        .default(10_000)
        .argParser(bounded("--max-inflight", 1, 100_000)),
    )
    .addOption(
      new Option("--duration <s>", "stop by itself after this many seconds (0 = only on a signal)")
        .default(0)
        .argParser(bounded("--duration", 0, 86_400)),
    );
}

export function parseArgs(argv: string[]): FragileArgs {
  const options = buildProgram().exitOverride().parse(argv, { from: "user" }).opts();
  return {
    host: options.host,
    port: options.port,
    settings: {
      baseMs: options.baseMs,
      knee: options.knee,
      errorAt: options.errorAt,
      noise: options.noise,
      quotaRps: options.quotaRps,
    },
    maxInflight: options.maxInflight,
    throttleRetryAfterS: options.throttleRetryAfterS,
    outages: options.outage ?? [],
    throttles: options.throttle ?? [],
    kneeChanges: options.kneeChange ?? [],
    durationS: options.duration,
  };
}
