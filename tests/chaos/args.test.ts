import { describe, expect, test } from "bun:test";
import { buildProgram, parseOptions } from "../../tools/chaos/args.ts";
import { profiles } from "../../tools/chaos/profiles.ts";

/** Parses like the CLI, but a refusal throws (with commander's message) instead of exiting. */
function parse(argv: string[]) {
  const program = buildProgram()
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: () => {} });
  return parseOptions(argv, program);
}

describe("bun run chaos arguments", () => {
  test("defaults: the quick profile, its duration, a random seed that is printed with the run", () => {
    const options = parse([]);
    expect(options.profile).toBe(profiles.quick);
    expect(options.durationS).toBe(profiles.quick.durationS);
    expect(Number.isInteger(options.seed)).toBe(true);
  });

  test("every option is taken as given", () => {
    const options = parse([
      "--profile",
      "full",
      "--seed",
      "42",
      "--duration",
      "120",
      "--html",
      "a.html",
      "--json",
      "a.json",
    ]);
    expect(options).toEqual({
      profile: profiles.full,
      seed: 42,
      durationS: 120,
      html: "a.html",
      json: "a.json",
    });
  });

  test.each([
    [["--profile", "forever"]],
    [["--seed", "-1"]],
    [["--seed", "1.5"]],
    [["--seed", "4294967296"]],
    [["--seed", "0x10"]],
    [["--duration", "5"]],
    [["--duration", "99999"]],
    [["--duration", ""]],
    [["--target", "http://example.com"]],
    [["extra"]],
  ])("%p is refused before anything starts", (argv) => {
    expect(() => parse(argv)).toThrow();
  });
});
