import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { LoadTestResult } from "../../tools/load-test/result.ts";

const entryPoint = resolve(import.meta.dir, "../../tools/load-test/main.ts");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  result: LoadTestResult;
}

/**
 * Runs `bun tools/load-test/main.ts` as a user would (its own process, exit code, stdout) with
 * `--json` into a temp file, and returns both. The child is killed if it outlives `timeoutMs`.
 */
export async function runCli(
  args: string[],
  { timeoutMs = 30_000, env = {} }: { timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const dir = mkdtempSync(join(tmpdir(), "rsd-load-test-"));
  const jsonPath = join(dir, "result.json");
  try {
    const child = Bun.spawn(["bun", entryPoint, ...args, "--json", jsonPath, "--no-progress"], {
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      env: { ...process.env, ...env },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [stdout, stderr, code] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
      child.exited,
    ]);
    clearTimeout(timer);
    let result: LoadTestResult;
    try {
      result = JSON.parse(readFileSync(jsonPath, "utf8")) as LoadTestResult;
    } catch {
      throw new Error(`load tester wrote no JSON (exit ${code}):\n${stdout}\n${stderr}`);
    }
    return { code, stdout, stderr, result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Reads one gauge from a Prometheus text page (first sample without labels). */
export async function gauge(baseUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (!line) throw new Error(`${name} not found on ${baseUrl}/metrics`);
  return Number(line.slice(line.lastIndexOf(" ") + 1));
}
