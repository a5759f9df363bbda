import { describe, expect, test } from "bun:test";
import type { ProtectionResult } from "../../tools/bench/protection/scenarios.ts";
import { protectionMarkdown } from "../../tools/bench/report.ts";
import { keepSections, sectionOf, withSection } from "../../tools/bench/sections.ts";

const result: ProtectionResult = {
  sweep: [
    { setting: "fixed TERMINALS=8 (fleet 16)", goodputRps: 400, p99Ms: 500 },
    { setting: "fixed TERMINALS=64 (fleet 128)", goodputRps: 0, p99Ms: 0 },
    { setting: "adaptive (knee 16)", goodputRps: 390, p99Ms: 600 },
  ],
  convergenceS: { start: 1.5, afterHalving: null },
  rate: { rps: 50, maxPerSecond: 51, windows: 8 },
  storm: { deadLetters: 0, callsDuringStorm: 5, succeeded: 100, sent: 100 },
  outage: { probesPerSecondMax: 3, refusalP99Ms: 4, refusals: 50, recoveryS: 0.8 },
  admission: [
    { mode: "predictive", timeoutShare: 0.005, refusalP99Ms: 3, retryAfterShare: 1, goodputShare: 0.98 },
  ],
};

// The protection scenario takes minutes (`bun run bench -- --only protection`); its report and the
// way it lands in docs/benchmarks.md are checked here without running it.
describe("the protection benchmark's report", () => {
  test("compares adaptive with the best fixed setting and fixed 64, and says what did not settle", () => {
    const markdown = protectionMarkdown(result, {
      date: new Date("2026-01-01T00:00:00Z"),
      command: "bun run bench -- --only protection",
    });
    expect(markdown).toContain(
      "| adaptive goodput vs the best fixed (fixed TERMINALS=8 (fleet 16)) | ≥ 95% | 97.5% |",
    );
    expect(markdown).toContain("390.0 vs 0.0 req/s");
    expect(markdown).toContain("| convergence after the knee halved | ≤ 10 s | did not settle |");
    expect(markdown).toContain("| 429 storm: dead letters | 0 | 0 |");
  });

  test("its section replaces the previous one, or is added once, and a full run keeps every section", () => {
    const base = "# Benchmarks\n\nnumbers\n";
    const once = withSection(base, "protection", "first");
    expect(once.startsWith(base.trimEnd())).toBe(true);
    expect(sectionOf(once, "protection")).toBe("first");
    const twice = withSection(once, "protection", "second");
    expect(sectionOf(twice, "protection")).toBe("second");
    expect(twice.match(/protection:begin/g)?.length).toBe(1);
    expect(twice).toContain("numbers");
    expect(sectionOf(base, "protection")).toBeUndefined();
    const both = withSection(twice, "tracing", "traced");
    const rewritten = keepSections("# Benchmarks\n\nnew numbers\n", both);
    expect(rewritten).toContain("new numbers");
    expect(rewritten).not.toContain("\nnumbers");
    expect(sectionOf(rewritten, "protection")).toBe("second");
    expect(sectionOf(rewritten, "tracing")).toBe("traced");
  });
});
