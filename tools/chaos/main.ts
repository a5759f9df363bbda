#!/usr/bin/env bun
/**
 * `bun run chaos -- [--duration S] [--seed N] [--profile quick|full] [--html FILE] [--json FILE]`:
 * a private stack on 127.0.0.1, load with faults planned from the seed, an independent check of
 * every answer, a report; exit 1 when an invariant is violated, 130 when interrupted.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseOptions } from "./args.ts";
import { formatReport } from "./report.ts";
import { writeChaosHtml } from "./report-html.ts";
import { runChaos } from "./run.ts";
import type { ChaosStack } from "./stack.ts";

const options = parseOptions(process.argv.slice(2));

// First Ctrl-C: stop the load, drain, check and report what ran. Second: kill the stack and leave.
const interrupt = new AbortController();
let stack: ChaosStack | undefined;
const leaveNow = async (code: number) => {
  await stack?.destroy().catch(() => {});
  process.exit(code);
};
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (interrupt.signal.aborted) void leaveNow(130);
    console.error("\n[chaos] stopping the load (again to quit at once)…");
    interrupt.abort();
  });
}

try {
  const report = await runChaos(options, interrupt.signal, (started) => {
    stack = started;
  });
  console.log(formatReport(report));
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
    console.error(`JSON report: ${options.json}`);
  }
  if (options.html) {
    writeChaosHtml(options.html, report);
    console.error(`HTML report: ${options.html}`);
  }
  process.exit(report.interrupted ? 130 : report.check.verdict.passed ? 0 : 1);
} catch (error) {
  console.error(
    `[chaos] the run itself failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await leaveNow(2);
}
