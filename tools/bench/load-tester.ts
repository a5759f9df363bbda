import { readFileSync } from "node:fs";
import type { LoadTestResult } from "../load-test/result.ts";
import { repoRoot } from "./launcher.ts";

/**
 * Runs the load tester (`tools/load-test/main.ts`) as a child process against `url` and returns
 * its JSON result. The child is killed if it outlives its own duration by a minute; a run that
 * wrote no result is an error carrying what the tester printed.
 */
export async function runLoadTester(options: {
  url: string;
  args: string[];
  durationS: number;
  /** Where the tester writes its JSON result. */
  jsonPath: string;
  /** Names the run in the error, when it wrote nothing. */
  name: string;
}): Promise<LoadTestResult> {
  const { url, args, durationS, jsonPath, name } = options;
  const proc = Bun.spawn(["bun", "tools/load-test/main.ts", "--url", url, ...args, "--json", jsonPath], {
    cwd: repoRoot,
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), (durationS + 60) * 1000);
  const [stdout, stderr] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  try {
    return JSON.parse(readFileSync(jsonPath, "utf8")) as LoadTestResult;
  } catch {
    throw new Error(`the load tester wrote no results for ${name}:\n${stdout}\n${stderr}`);
  }
}
