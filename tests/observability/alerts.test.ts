import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { promtool } from "./support/command.ts";
import { type AlertRule, loadAlertRules } from "./support/dashboard.ts";
import { paths } from "./support/paths.ts";

/** The one scheme every runbook link follows (documented in docs/observability.md). */
const runbookBase = "https://github.com/OWNER/redis-stream-demo/blob/main/docs/operations.md#";

type UnitTests = {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
};

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes. */
function githubAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

let rules: AlertRule[];
const byName = (name: string) => {
  const rule = rules.find((candidate) => candidate.alert === name);
  if (!rule) throw new Error(`alerts.yml has no alert ${name}`);
  return rule;
};
const scratch = mkdtempSync(join(tmpdir(), "rsd-alerts-"));
beforeAll(async () => {
  rules = await loadAlertRules();
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("alert rules", () => {
  test("pass promtool check rules", async () => {
    const result = await promtool("check", "rules", paths.alerts);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code).toBe(0);
  });

  test("pass their promtool unit tests", async () => {
    const result = await promtool("test", "rules", paths.alertTests);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  test("cover what the issue asks for, with the asked durations and thresholds", () => {
    expect(byName("RsdQueueLagGrowing")).toMatchObject({ for: "5m" });
    expect(byName("RsdQueueLagGrowing").expr).toContain("rsd_stream_lag");
    expect(byName("RsdTerminalsSaturated")).toMatchObject({ for: "10m" });
    expect(byName("RsdTerminalsSaturated").expr).toMatch(
      /rsd_proxy_terminals_busy[\s\S]*\/[\s\S]*rsd_proxy_terminals\b[\s\S]*> 0\.9/,
    );
    expect(byName("RsdHighErrorRatio").expr).toMatch(/status=~"5\.\."[\s\S]*> 0\.01/);
    expect(byName("RsdDeadLetters").expr).toContain('increase(rsd_proxy_processed_total{outcome="dead"}');
    expect(byName("RsdRedisMemoryHigh").expr).toMatch(
      /redis_memory_used_bytes[\s\S]*redis_memory_max_bytes[\s\S]*> 0\.8/,
    );
    expect(byName("RsdTargetDown").expr).toBe("up == 0");
    expect(byName("RsdBreakerOpen")).toMatchObject({ for: "5m" });
    expect(byName("RsdBreakerOpen").expr).toMatch(/rsd_breaker_state[\s\S]*>= 1/);
  });

  test("every alert has a severity and a runbook link to a section of docs/operations.md", async () => {
    const anchors = new Set(
      (await Bun.file(paths.operations).text())
        .split("\n")
        .filter((line) => /^#{1,6} /.test(line))
        .map((line) => githubAnchor(line.replace(/^#+ /, ""))),
    );
    for (const rule of rules) {
      expect(["warning", "critical"]).toContain(rule.labels?.severity ?? "");
      expect(rule.annotations?.summary).toBeTruthy();
      const url = rule.annotations?.runbook_url ?? "";
      expect(url.startsWith(runbookBase)).toBe(true);
      expect([...anchors]).toContain(url.slice(runbookBase.length));
    }
  });

  test("every alert has a unit test where it fires and one where it stays quiet", async () => {
    const unit = parse(await Bun.file(paths.alertTests).text()) as UnitTests;
    const checks = unit.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const rule of rules) {
      const mine = checks.filter((check) => check.alertname === rule.alert);
      expect({ alert: rule.alert, fires: mine.some((c) => c.exp_alerts.length > 0) }).toEqual({
        alert: rule.alert,
        fires: true,
      });
      expect({ alert: rule.alert, quiet: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({
        alert: rule.alert,
        quiet: true,
      });
    }
  });

  // The unit tests must be able to fail: each plausible mistake below has to break at least one.
  const mutations: [string, string, string][] = [
    [
      "lag alert waits only 1 minute",
      "for: 5m\n        labels:\n          severity: warning",
      "for: 1m\n        labels:\n          severity: warning",
    ],
    ["saturation threshold at 50%", "> 0.9", "> 0.5"],
    ["4xx counted as errors", 'status=~"5.."', 'status=~"4..|5.."'],
    [
      "dead letters only seen by increase()",
      "          or\n          sum by (namespace) (\n",
      "          and\n          sum by (namespace) (\n",
    ],
    ["Redis without maxmemory divides by zero", "(redis_memory_max_bytes > 0)", "redis_memory_max_bytes"],
    ["a scrape blip is an outage", "expr: up == 0\n        for: 2m", "expr: up == 0\n        for: 0m"],
  ];
  for (const [mistake, from, to] of mutations) {
    test(`the unit tests catch a broken rule: ${mistake}`, async () => {
      const original = await Bun.file(paths.alerts).text();
      expect(original).toContain(from);
      const dir = mkdtempSync(join(scratch, "mutant-"));
      writeFileSync(join(dir, "alerts.yml"), original.replace(from, to));
      const unit = parse(await Bun.file(paths.alertTests).text()) as UnitTests;
      writeFileSync(join(dir, "alerts.test.yml"), stringify({ ...unit, rule_files: ["alerts.yml"] }));
      const result = await promtool("test", "rules", join(dir, "alerts.test.yml"));
      expect(result.output).toContain("FAILED");
      expect(result.code).not.toBe(0);
    });
  }
});
