import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

// A one-second smoke run of `bun run bench`, so the benchmark (its launcher, wrk script, load
// tester run and report) keeps working between the times someone runs it for real. The numbers
// of such a short run mean nothing and are not checked, only that each one was measured.
describe("bun run bench", () => {
  test("runs every scenario and writes a report with the command, date, machine and every row", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rsd-bench-test-"));
    const output = join(dir, "benchmarks.md");
    try {
      const child = Bun.spawn(
        ["bun", "tools/bench/main.ts", "--duration", "1", "--rounds", "2", "--output", output],
        {
          cwd: resolve(import.meta.dir, "../.."),
          stdout: "pipe",
          stderr: "pipe",
          stdin: "ignore",
        },
      );
      const timer = setTimeout(() => child.kill("SIGKILL"), 100_000);
      const [stdout, stderr, code] = await Promise.all([
        new Response(child.stdout).text(),
        new Response(child.stderr).text(),
        child.exited,
      ]);
      clearTimeout(timer);
      expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
      const markdown = readFileSync(output, "utf8");
      for (const row of [
        "bare `GET /healthz`",
        "`POST /api/requests`",
        "saturation: 3 proxies × 50 terminals",
        "minimal Redis Streams pipeline, tuned",
        "the same minimal pipeline on ioredis",
        "overhead on a Redis Cluster",
      ]) {
        expect(stdout).toContain(row);
        const line = markdown.split("\n").find((l) => l.includes(row));
        // The req/s cell is a positive number.
        expect(Number(line?.split("|")[2]?.trim().replace(/,/g, ""))).toBeGreaterThan(0);
      }
      expect(markdown).toContain("**Command:** `bun run bench -- --duration 1 --rounds 2 --output");
      expect(markdown).toMatch(/\*\*Date:\*\* \d{4}-\d\d-\d\dT/);
      expect(markdown).toMatch(/\*\*Machine:\*\* \d+ CPUs \(`nproc`\)/);
      expect(markdown).toContain("efficiency");
      // Both interleaved rounds are listed, and the CPU breakdown has a row per POST pipeline.
      expect(markdown).toMatch(/round 1: [\d,]+ \/ [\d,]+ \/ [\d,]+ \([\d.]+%\); round 2: /);
      for (const row of [
        "product `POST /api/requests`",
        "minimal pipeline, tuned",
        "minimal pipeline on ioredis",
      ]) {
        const line = markdown.split("\n").find((l) => l.startsWith(`| ${row}`));
        // The total CPU per request is a positive number of microseconds.
        expect(Number(line?.split("|")[6]?.trim())).toBeGreaterThan(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
