import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface WrkResult {
  requests: number;
  durationS: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Non-2xx/3xx answers plus socket errors (connect, read, write, timeout). */
  errors: number;
}

export interface WrkRun {
  url: string;
  connections: number;
  threads: number;
  durationS: number;
  /** POST this JSON body; GET when absent. */
  body?: string;
}

/**
 * wrk's `done()` hook prints the exact numbers as one JSON line, so nothing depends on parsing
 * its human output (units switch between us, ms and s there). Latency values are microseconds.
 */
function luaScript(body: string | undefined): string {
  const request = body
    ? // A JSON string literal is a valid Lua string literal for ASCII text (\" and \\ escape the same way).
      `wrk.method = "POST"
wrk.body = ${JSON.stringify(body)}
wrk.headers["Content-Type"] = "application/json"
`
    : "";
  return `${request}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;
}

/** The command line, for the report (the same one a reader can paste). */
export function wrkCommand(run: WrkRun, scriptPath = "script.lua"): string[] {
  return [
    "wrk",
    `-t${run.threads}`,
    `-c${run.connections}`,
    `-d${run.durationS}s`,
    "--timeout",
    "5s",
    "-s",
    scriptPath,
    run.url,
  ];
}

export async function runWrk(run: WrkRun): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-wrk-"));
  try {
    const script = join(dir, "script.lua");
    writeFileSync(script, luaScript(run.body));
    const proc = Bun.spawn(wrkCommand(run, script), { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => proc.kill("SIGKILL"), (run.durationS + 30) * 1000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    const line = stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
    if (code !== 0 || !line) throw new Error(`wrk failed (exit ${code}):\n${stdout}\n${stderr}`);
    const raw = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
    const durationS = raw.duration_us! / 1e6;
    return {
      requests: raw.requests!,
      durationS,
      rps: raw.requests! / durationS,
      p50Ms: raw.p50! / 1000,
      p90Ms: raw.p90! / 1000,
      p99Ms: raw.p99! / 1000,
      p999Ms: raw.p999! / 1000,
      maxMs: raw.max! / 1000,
      errors: raw.errors!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
