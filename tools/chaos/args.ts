import { Command, InvalidArgumentError, Option } from "commander";
import { type Profile, profiles } from "./profiles.ts";

export interface ChaosOptions {
  profile: Profile;
  /** Seconds of load; the profile's unless --duration. */
  durationS: number;
  seed: number;
  html: string | undefined;
  json: string | undefined;
}

function integerIn(name: string, low: number, high: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < low || Number(value) > high)
      throw new InvalidArgumentError(`${name} must be an integer ${low}…${high}.`);
    return Number(value);
  };
}

export function buildProgram(): Command {
  return new Command("chaos")
    .description(
      "Start a private stack (redis-server with AOF, 2 ingresses, 3 proxies, a recording backend) on 127.0.0.1, load it while injecting faults planned from a seed, and check every answer with an independent checker. Exits 1 when an invariant is violated.",
    )
    .addOption(
      new Option("--profile <name>", "quick (CI, ≤ 90 s) or full (10 minutes)")
        .choices(["quick", "full"])
        .default("quick"),
    )
    .addOption(
      new Option("--duration <s>", "seconds of load (default: the profile's)").argParser(
        integerIn("--duration", 20, 3_600),
      ),
    )
    .addOption(
      new Option(
        "--seed <n>",
        "the fault plan's seed (default: random, printed so the run can be replayed)",
      ).argParser(integerIn("--seed", 0, 4_294_967_295)),
    )
    .addOption(new Option("--html <file>", "write the HTML report with its timeline to FILE"))
    .addOption(new Option("--json <file>", "write the whole report as JSON to FILE"))
    .showHelpAfterError()
    .allowExcessArguments(false);
}

export function parseOptions(argv: string[], program: Command = buildProgram()): ChaosOptions {
  program.parse(argv, { from: "user" });
  const raw = program.opts<{
    profile: Profile["name"];
    duration?: number;
    seed?: number;
    html?: string;
    json?: string;
  }>();
  const profile = profiles[raw.profile];
  return {
    profile,
    durationS: raw.duration ?? profile.durationS,
    seed: raw.seed ?? Math.floor(Math.random() * 4_294_967_296),
    html: raw.html,
    json: raw.json,
  };
}
