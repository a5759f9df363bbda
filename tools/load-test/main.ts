#!/usr/bin/env bun
/**
 * `bun run load-test -- [options]` (and `./load-test-unified.ps1`): load the ingress, print a
 * summary, optionally write JSON and HTML reports, and exit 1 when the error rate is above
 * --max-error-rate so the run can gate CI.
 */
import { parseOptions } from "./args.ts";
import { reexecWithConnectionCap } from "./connection-cap.ts";
import { writeHtmlReport } from "./report-html.ts";
import { writeJsonReport } from "./report-json.ts";
import { runLoadTest } from "./run-load-test.ts";
import { formatSummary } from "./summary.ts";

const options = parseOptions(process.argv.slice(2));

const childCode = await reexecWithConnectionCap(options.concurrency);
if (childCode !== null) process.exit(childCode);

// First Ctrl-C: stop sending, wait for the answers in flight, still report. Second: leave now.
const interrupt = new AbortController();
process.on("SIGINT", () => {
  if (interrupt.signal.aborted) process.exit(130);
  console.error("\nStopping: waiting for requests in flight (Ctrl-C again to quit now)…");
  interrupt.abort();
});

const result = await runLoadTest(options, interrupt.signal);
console.log(formatSummary(result));
if (options.json) {
  writeJsonReport(options.json, result);
  console.error(`JSON results: ${options.json}`);
}
if (options.html) {
  writeHtmlReport(options.html, result);
  console.error(`HTML report:  ${options.html}`);
}
process.exit(result.verdict.interrupted ? 130 : result.verdict.passed ? 0 : 1);
