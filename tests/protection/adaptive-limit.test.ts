import { describe, expect, test } from "bun:test";
import { AdaptiveLimit } from "../../proxy/src/protection/adaptive-limit.ts";
import type { CallOutcome } from "../../proxy/src/protection/backend-signals.ts";

/**
 * The limiter against a simulated backend with a knee (no clocks, no sleeps: time is a number the
 * test advances). Each step the pod runs `limit` calls, and each call takes the model's latency.
 */
function simulate(options: { min?: number; max: number; knee: () => number; baseMs?: number }) {
  let now = 0;
  const limiter: AdaptiveLimit = new AdaptiveLimit({
    min: options.min ?? 1,
    max: options.max,
    inUse: (): number => limiter.limit,
    onChange: () => {},
    now: () => now,
  });
  const base = options.baseMs ?? 40;
  return {
    limiter,
    /** Runs for `ms` of simulated time with every call answered by `outcome` (ok: the knee model). */
    run(ms: number, outcome: (latency: number, index: number) => CallOutcome = () => "ok") {
      const end = now + ms;
      let index = 0;
      while (now < end) {
        const over = Math.max(1, limiter.limit / options.knee());
        const latency = base * over * over;
        // One round of `limit` calls finishing together, spread over the round's latency.
        const calls = limiter.limit;
        for (let call = 0; call < calls; call++) {
          now += latency / calls;
          limiter.observe(outcome(latency, index++), latency);
        }
      }
      return limiter.limit;
    },
  };
}

describe("AdaptiveLimit", () => {
  test("climbs from its start to the knee and stays close to it", () => {
    const sim = simulate({ max: 64, knee: () => 16 });
    sim.run(10_000);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push(sim.run(500));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...seen)).toBeLessThanOrEqual(24);
  });

  test("follows the knee down when it halves, without a probe down to the floor", () => {
    let knee = 16;
    const sim = simulate({ max: 64, knee: () => knee });
    sim.run(10_000);
    knee = 8;
    sim.run(10_000);
    const seen: number[] = [];
    for (let i = 0; i < 20; i++) seen.push(sim.run(500));
    expect(Math.max(...seen)).toBeLessThanOrEqual(12);
    // No min-RTT probe: once converged it never drops to the floor (envoy#8337).
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(4);
  });

  test("steady timeouts unrelated to load neither collapse it to 1 nor grow it to the cap", () => {
    const sim = simulate({ max: 64, knee: () => 16 });
    const healthy = sim.run(10_000);
    // Every fifth call times out, whatever the concurrency (concurrency-limits#137's situation).
    const seen: number[] = [];
    for (let i = 0; i < 60; i++)
      seen.push(sim.run(1000, (_latency, index) => (index % 5 === 0 ? "timeout" : "ok")));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(Math.floor(healthy / 2) - 1);
    expect(Math.max(...seen)).toBeLessThanOrEqual(healthy);
  });

  test("a window where every call failed holds the limit (an outage is the breaker's business)", () => {
    const sim = simulate({ max: 64, knee: () => 16 });
    const healthy = sim.run(10_000);
    // The window the outage starts in still had successes: one gentle back-off at most.
    const first = sim.run(1_000, () => "failure");
    expect(first).toBeGreaterThanOrEqual(Math.floor(healthy * 0.9) - 1);
    expect(sim.run(5_000, () => "failure")).toBe(first);
  });

  test("stays within MIN_TERMINALS and TERMINALS", () => {
    const tight = simulate({ min: 3, max: 5, knee: () => 1 });
    const seen: number[] = [];
    for (let i = 0; i < 40; i++) seen.push(tight.run(500));
    expect(Math.min(...seen)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...seen)).toBeLessThanOrEqual(5);
    const roomy = simulate({ max: 6, knee: () => 100 });
    expect(roomy.run(10_000)).toBe(6);
  });
});
