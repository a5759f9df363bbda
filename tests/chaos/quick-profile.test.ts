import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ChaosReport } from "../../tools/chaos/run.ts";
import { faultKinds } from "../../tools/chaos/schedule.ts";

const entryPoint = resolve(import.meta.dir, "../../tools/chaos/main.ts");

/**
 * CI's chaos run: the real tool as a user runs it (its own process, exit code, reports), quick
 * profile with a fixed seed. It must pass every invariant; the report must describe a run that
 * really happened (every fault kind injected, load answered), and the run must leave nothing
 * behind: no process it started, no temporary directory.
 */
describe("bun run chaos --profile quick", () => {
  test("passes every invariant, reports sanely and cleans up after itself", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rsd-chaos-test-"));
    try {
      const json = join(dir, "report.json");
      const html = join(dir, "report.html");
      const child = Bun.spawn(
        ["bun", entryPoint, "--profile", "quick", "--seed", "7", "--json", json, "--html", html],
        {
          stdout: "pipe",
          stderr: "pipe",
          stdin: "ignore",
        },
      );
      // The tool bounds itself; this only keeps a broken build from holding CI forever.
      const timer = setTimeout(() => child.kill("SIGKILL"), 170_000);
      const [stdout, stderr, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      clearTimeout(timer);
      if (code !== 0) console.error(stdout, stderr);
      expect(code).toBe(0);
      expect(stdout).toContain("PASS: every invariant held.");

      const report = JSON.parse(readFileSync(json, "utf8")) as ChaosReport;
      expect(report.seed).toBe(7);
      expect(report.check.verdict).toEqual({ passed: true, violations: [] });
      // Every kind of fault was injected, none failed to inject.
      expect(new Set(report.faults.map((fault) => fault.kind))).toEqual(new Set(faultKinds));
      expect(report.faults.filter((fault) => fault.error)).toEqual([]);
      // Real load went through, and was answered.
      const { counts, redis } = report.check;
      expect(counts.sent).toBeGreaterThan(500);
      expect(counts.lost).toBe(0);
      expect(counts.wrongClient).toBe(0);
      expect(counts.byStatus["200"] ?? 0).toBeGreaterThan(100);
      expect(counts.byStatus["backend 200"] ?? 0).toBeGreaterThan(50);
      expect(counts.asyncFinal["200"] ?? 0).toBeGreaterThan(50);
      expect(redis.pending).toBe(0);
      expect(redis.lag).toBe(0);
      expect(report.timeline.length).toBeGreaterThanOrEqual(report.durationS);
      // The same seed plans the same faults at the same offsets.
      const { planFaults } = await import("../../tools/chaos/schedule.ts");
      const { profiles } = await import("../../tools/chaos/profiles.ts");
      expect(report.plan).toEqual(planFaults(7, profiles.quick, report.durationS));
      // The HTML report carries the timeline and its fault markers.
      const page = readFileSync(html, "utf8");
      expect(page).toContain('id="timeline"');
      expect(page).toContain("redis-pause");
      // Nothing left behind: every process it started is gone, and Redis's directory too.
      expect(report.processes.length).toBeGreaterThanOrEqual(6);
      for (const { pid } of report.processes) expect(existsSync(`/proc/${pid}`)).toBe(false);
      expect(existsSync(report.redisDir)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
