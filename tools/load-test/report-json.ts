import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { LoadTestResult } from "./result.ts";

/** Writes the result as pretty JSON (stable field order, for diffs and `jq`). */
export function writeJsonReport(path: string, result: LoadTestResult): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
}
