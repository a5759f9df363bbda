import { describe, expect, test } from "bun:test";
import { roundOrder, settle } from "../../tools/bench/rounds.ts";
import type { PostResult } from "../../tools/bench/scenarios.ts";
import type { TracingComparison } from "../../tools/bench/tracing.ts";
import { tracingMarkdown } from "../../tools/bench/tracing-report.ts";

describe("bench rounds: no target is favoured by its position", () => {
  test("over as many rounds as targets, each target runs once in each position", () => {
    const names = ["off", "on 100%", "on 1%"] as const;
    const orders = [1, 2, 3].map((round) => roundOrder(names, round));
    expect(orders).toEqual([
      ["off", "on 100%", "on 1%"],
      ["on 100%", "on 1%", "off"],
      ["on 1%", "off", "on 100%"],
    ]);
    for (let position = 0; position < names.length; position++)
      expect(new Set(orders.map((order) => order[position])).size).toBe(names.length);
    expect(roundOrder(names, 4)).toEqual(orders[0]!);
  });

  test("settle returns once the processes are idle (a sleeping child), well before its deadline", async () => {
    const child = Bun.spawn(["sleep", "30"]);
    try {
      const waited = await settle([child.pid], 10_000);
      expect(waited).toBeLessThan(10_000);
    } finally {
      child.kill();
    }
  });

  test("settle gives up at its deadline while a process stays busy", async () => {
    const child = Bun.spawn(["bun", "-e", "for (;;) {}"]);
    try {
      const waited = await settle([child.pid], 1_000);
      expect(waited).toBeGreaterThanOrEqual(1_000);
    } finally {
      child.kill();
    }
  });
});

describe("the tracing section judges the 1% target on the ratio within each round", () => {
  const result = (rps: number): PostResult =>
    ({ rps, p50Ms: 1, p99Ms: 2, errors: 0, requests: rps * 10, durationS: 10 }) as PostResult;
  const run = {
    date: new Date("2026-12-05T12:00:00Z"),
    command: "bun run bench -- --only tracing",
    durationS: 10,
    machine: { nproc: 2, loadAverage: 0.1, commit: "abc1234" },
  } as Parameters<typeof tracingMarkdown>[0];
  const comparison = (rounds: [number, number][]): TracingComparison => ({
    results: { off: result(rounds[0]![0]), "on 100%": result(10_000), "on 1%": result(rounds[0]![1]) },
    rounds: rounds.map(([off, onePercent]) => ({ off, "on 100%": 10_000, "on 1%": onePercent })),
    exported: { requests: 3, bytes: 4096 },
  });

  test("a machine that drifts between rounds: each round within 5% → meets, with the spread shown", () => {
    const markdown = tracingMarkdown(
      run,
      comparison([
        [30_000, 29_000],
        [20_000, 19_500],
        [25_000, 24_000],
      ]),
    );
    expect(markdown).toContain("meets: the median round is within 5% of off");
    expect(markdown).toContain("median over the rounds is 96.7% (lowest 96.0%, highest 97.5%)");
  });

  test("most rounds more than 5% under off → below", () => {
    const markdown = tracingMarkdown(
      run,
      comparison([
        [30_000, 27_000],
        [30_000, 29_900],
        [30_000, 28_000],
      ]),
    );
    expect(markdown).toContain("**below**: the median round is more than 5% under off");
  });
});
