#!/usr/bin/env bun
/**
 * `bun run bench`: issue 2's benchmark on this machine. Overhead with wrk (POST vs a bare
 * GET /healthz on the same ingress), saturation with the load tester (3 × 50 terminals at
 * 150 ms); prints a table and rewrites docs/benchmarks.md with the command, date and machine.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { fairnessTable, runFairness } from "./fairness.ts";
import { repoRoot } from "./launcher.ts";
import { describeMachine } from "./machine.ts";
import { runOverheadComparison } from "./overhead.ts";
import { runProtection } from "./protection/scenarios.ts";
import {
  type BenchRun,
  benchmarksMarkdown,
  cpuTable,
  protectionMarkdown,
  resultsTable,
  roundsSummary,
} from "./report.ts";
import { runClusterOverhead, runSaturation } from "./scenarios.ts";
import { keepSections, type SectionName, withSection } from "./sections.ts";
import { runTracingComparison } from "./tracing.ts";
import { tracingMarkdown } from "./tracing-report.ts";

const program = new Command("bench")
  .description(
    "Benchmark the gateway: overhead (wrk) and saturation (load tester); writes docs/benchmarks.md",
  )
  .addOption(
    new Option("-d, --duration <s>", "seconds per measurement").default(10).argParser((value) => {
      if (!/^\d+$/.test(value) || Number(value) < 1)
        throw new InvalidArgumentError("--duration must be an integer ≥ 1.");
      return Number(value);
    }),
  )
  .addOption(
    new Option(
      "--only <scenario>",
      "run one scenario (fairness, protection and tracing run only this way: each writes its own section)",
    ).choices(["overhead", "saturation", "cluster", "fairness", "protection", "tracing"]),
  )
  .addOption(
    // Five: consecutive 10 s runs on a shared 2-core machine differ by up to 20%, and the median
    // of five rounds is the steadier reading of a ratio that sits close to its target.
    new Option(
      "--rounds <n>",
      "interleaved, rotated rounds of the overhead and tracing comparisons (median reported)",
    )
      .default(5)
      .argParser((value) => {
        if (!/^\d+$/.test(value) || Number(value) < 1)
          throw new InvalidArgumentError("--rounds must be an integer ≥ 1.");
        return Number(value);
      }),
  )
  .addOption(new Option("--output <file>", "where to write the markdown").default("docs/benchmarks.md"))
  .addOption(new Option("--no-write", "print only; leave docs/benchmarks.md alone"))
  .allowExcessArguments(false);
program.parse(process.argv.slice(2), { from: "user" });
const options = program.opts<{
  duration: number;
  only?: "overhead" | "saturation" | "cluster" | "fairness" | "protection" | "tracing";
  rounds: number;
  output: string;
  write: boolean;
}>();

for (const tool of options.only === "protection" ? ["redis-server"] : ["redis-server", "wrk"]) {
  if (!Bun.which(tool)) {
    console.error(
      `${tool} is not on PATH. Debian/Ubuntu: apt-get install ${tool === "wrk" ? "wrk" : "redis-server"}`,
    );
    process.exit(1);
  }
}

const log = (line: string) => console.error(`[bench] ${line}`);
const run: BenchRun = {
  date: new Date(),
  command: process.argv.length > 2 ? `bun run bench -- ${process.argv.slice(2).join(" ")}` : "bun run bench",
  durationS: options.duration,
  machine: describeMachine(),
  overhead: null,
  saturation: null,
  minimal: null,
  rounds: [],
  cluster: null,
};

const output = resolve(repoRoot, options.output);
const existing = existsSync(output) ? readFileSync(output, "utf8") : "";
const wanted = (scenario: NonNullable<typeof options.only>) => !options.only || options.only === scenario;

/** Prints a scenario's section and, unless --no-write, puts it in its place in the doc; then exits. */
function finishSection(name: SectionName, content: string): never {
  console.log(content);
  if (options.write) {
    writeFileSync(output, withSection(existing, name, content));
    log(`wrote the ${name} section of ${output}`);
  }
  process.exit(0);
}

// Fairness (issue 18), protection (issue 17) and tracing (issue 20) run only when asked for, and
// each writes its own section of the doc.
if (options.only === "fairness") {
  const table = fairnessTable(await runFairness(options.duration, log));
  finishSection("fairness", `## Fairness between tenants (issue 18)\n\n${sectionHeader(run)}\n\n${table}`);
}
if (options.only === "protection")
  finishSection("protection", protectionMarkdown(await runProtection(log), run));
if (options.only === "tracing") {
  const comparison = await runTracingComparison(options.duration, options.rounds, log);
  finishSection("tracing", tracingMarkdown(run, comparison));
}
if (wanted("overhead")) {
  const comparison = await runOverheadComparison(options.duration, options.rounds, log);
  run.overhead = comparison.overhead;
  run.minimal = comparison.minimal;
  run.rounds = comparison.rounds;
}
if (wanted("cluster")) run.cluster = await runClusterOverhead(options.duration, log);
if (wanted("saturation")) run.saturation = await runSaturation(options.duration, log);

console.log(resultsTable(run));
const rounds = roundsSummary(run);
if (rounds) console.log(`\n${rounds}`);
const cpu = cpuTable(run);
if (cpu) console.log(`\nCPU per request, by process:\n${cpu}`);
if (options.write && run.overhead && run.saturation && run.cluster) {
  // A full run rewrites the file, keeping the sections of the scenarios that run on their own.
  writeFileSync(output, keepSections(benchmarksMarkdown(run), existing));
  log(`wrote ${output}`);
} else if (options.write) {
  log("one scenario only: docs/benchmarks.md is left as it is (it always holds a complete run)");
}

/** Date, command, machine and load of a run, for a section's first line. */
function sectionHeader(of: BenchRun): string {
  const date = of.date.toISOString().replace(/\.\d+Z$/, "Z");
  return `- **Date:** ${date}; **command:** \`${of.command}\`; ${of.machine.nproc} CPUs, load average ${of.machine.loadAverage} at the start; commit ${of.machine.commit}`;
}
