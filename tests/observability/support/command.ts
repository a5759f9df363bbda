/** Result of a finished command. */
export interface CommandResult {
  code: number;
  output: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and returns its exit code and combined output. */
export async function run(
  cmd: string[],
  { cwd, timeoutMs = 30_000 }: { cwd?: string; timeoutMs?: number } = {},
) {
  const proc = Bun.spawn(cmd, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  try {
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    return { code, output: `${stdout}${stderr}` } satisfies CommandResult;
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `promtool` with the given arguments. */
export function promtool(...args: string[]): Promise<CommandResult> {
  return run(["promtool", ...args]);
}
