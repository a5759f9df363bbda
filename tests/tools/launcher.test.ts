import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Launcher } from "../../tools/bench/launcher.ts";
import { allStarted } from "../../tools/scaffold/all-started.ts";
import { waitFor } from "../helpers/wait.ts";

// Several processes started at once, one of which fails: the caller's cleanup must stop the others
// too, including one that becomes ready only after the failure (a CI run once left two proxies
// running that way).

const dir = mkdtempSync(join(tmpdir(), "rsd-launcher-"));
const started: number[] = [];
afterAll(() => {
  for (const pid of started) if (alive(pid)) process.kill(pid, "SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A stand-in service: it writes its pid to PID_FILE, fails at once with FAIL=yes, and otherwise
 * answers /readyz only once GATE_FILE exists, so the test decides when it becomes ready.
 */
const entry = join(dir, "service.ts");
writeFileSync(
  entry,
  `import { existsSync, writeFileSync } from "node:fs";
writeFileSync(process.env.PID_FILE!, String(process.pid));
if (process.env.FAIL === "yes") throw new Error("UPSTREAM_URL is not a URL");
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT),
  fetch: () => new Response(null, { status: existsSync(process.env.GATE_FILE!) ? 200 : 503 }),
});
`,
);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The stand-in's launch options; `name` names its pid and gate files. */
function standIn(name: string, env: Record<string, string> = {}) {
  const pidFile = join(dir, `${name}.pid`);
  const gateFile = join(dir, `${name}.gate`);
  return {
    options: {
      kind: "fragile-backend" as const,
      name,
      entry,
      env: { PID_FILE: pidFile, GATE_FILE: gateFile, ...env },
      readyTimeoutMs: 20_000,
    },
    pid: async () => {
      await waitFor(
        `${name} to write its pid`,
        () => existsSync(pidFile) && readFileSync(pidFile, "utf8") !== "",
      );
      const pid = Number(readFileSync(pidFile, "utf8"));
      started.push(pid);
      return pid;
    },
    open: () => writeFileSync(gateFile, ""),
  };
}

test("the launcher stops a process that became ready after a sibling's start failed", async () => {
  const launcher = new Launcher();
  const slow = standIn("slow");
  const failing = standIn("failing", { FAIL: "yes" });
  const starts = Promise.all([launcher.launch(slow.options), launcher.launch(failing.options)]);
  const slowPid = await slow.pid();
  await expect(starts).rejects.toThrow("UPSTREAM_URL is not a URL");
  // The caller's cleanup begins while the slow start is still under way; then it becomes ready.
  const stopping = launcher.stopAll();
  slow.open();
  await stopping;
  expect(alive(slowPid)).toBe(false);
}, 30_000);

test("allStarted settles only when every start has, then fails with the first failure", async () => {
  const launcher = new Launcher();
  const slow = standIn("slow-2");
  const failing = standIn("failing-2", { FAIL: "yes" });
  const failingStart = launcher.launch(failing.options);
  const starts = allStarted([launcher.launch(slow.options), failingStart]);
  const slowPid = await slow.pid();
  let settled = false;
  void starts
    .catch(() => {})
    .finally(() => {
      settled = true;
    });
  // The failing start has failed; allStarted still waits for the slow one.
  await expect(failingStart).rejects.toThrow("UPSTREAM_URL is not a URL");
  expect(settled).toBe(false);
  slow.open();
  await expect(starts).rejects.toThrow("UPSTREAM_URL is not a URL");
  expect(alive(slowPid)).toBe(true);
  await launcher.stopAll();
  expect(alive(slowPid)).toBe(false);
}, 30_000);
