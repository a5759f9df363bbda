import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { StreamSnapshot } from "@rsd/shared";
import { WaitPredictor } from "../../ingress/src/shedding/wait-predictor.ts";
import { metricValue, Stack } from "../helpers/stack.ts";
import { countOf, drive } from "./support.ts";

setDefaultTimeout(180_000);

function snapshot(readAt: number, lag: number, read: number): StreamSnapshot {
  return { length: lag, lag, pending: 0, read, shards: [], readAt };
}

describe("WaitPredictor", () => {
  test("learns the drain rate only under a backlog and predicts lag ÷ drain + processing", () => {
    let latest: StreamSnapshot | undefined = snapshot(1000, 0, 0);
    const predictor = new WaitPredictor(() => latest);
    expect(predictor.predictedWaitMs(1000)).toBeUndefined();
    // Idle → busy: the idle interval measured the arrival rate, not the capacity; not learned.
    latest = snapshot(1100, 50, 1);
    expect(predictor.predictedWaitMs(1100)).toBeUndefined();
    // 20 delivered in 100 ms with a backlog: 0.2 per ms.
    latest = snapshot(1200, 60, 21);
    predictor.observeProcessing(100);
    expect(predictor.predictedWaitMs(1200)).toBeCloseTo(60 / 0.2 + 100, 5);
    // What this ingress accepted since the poll counts as ahead.
    for (let i = 0; i < 20; i++) predictor.accepted();
    expect(predictor.predictedWaitMs(1250)).toBeCloseTo(80 / 0.2 + 100, 5);
    // A stale snapshot predicts nothing.
    expect(predictor.predictedWaitMs(5000)).toBeUndefined();
  });

  test("a backlog nobody drains predicts an endless wait", () => {
    let latest: StreamSnapshot | undefined = snapshot(1000, 10, 5);
    const predictor = new WaitPredictor(() => latest);
    predictor.predictedWaitMs(1000);
    latest = snapshot(1100, 30, 5);
    expect(predictor.predictedWaitMs(1100)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("ADMISSION against real overload (3× capacity, timeoutMs 1000)", () => {
  const stacks: Stack[] = [];
  afterAll(async () => {
    await Promise.all(stacks.map((stack) => stack.stop()));
  });

  async function overload(admission: "predictive" | "depth") {
    // Capacity 20 requests/s (2 terminals × 100 ms); 60 clients want 3× that at least.
    const stack = await Stack.start({
      proxies: 1,
      terminals: 2,
      processingMs: 100,
      ingressEnv: { ADMISSION: admission },
    });
    stacks.push(stack);
    const statuses = await drive(stack, { count: 300, connections: 60, timeoutMs: 1000 });
    const shed = await metricValue(stack.ingress.url, "rsd_ingress_shed_total", { reason: "predicted_wait" });
    return { statuses, shed };
  }

  test("predictive refuses at once what would time out; depth lets it queue and die with 504", async () => {
    const predictive = await overload("predictive");
    const depth = await overload("depth");
    expect(predictive.shed).toBeGreaterThanOrEqual(1);
    expect(countOf(predictive.statuses, 503)).toBe(predictive.shed);
    expect(depth.shed).toBe(0);
    const timeouts = { predictive: countOf(predictive.statuses, 504), depth: countOf(depth.statuses, 504) };
    // Depth mode: 60 waiting clients at 20/s means a 3 s queue; most requests die at their deadline.
    expect(timeouts.depth).toBeGreaterThan(100);
    expect(timeouts.predictive * 4).toBeLessThan(timeouts.depth);
  });

  test("a predicted-wait refusal is a 503 with a Retry-After of at least a second", async () => {
    const stack = await Stack.start({ proxies: 1, terminals: 1, processingMs: 200 });
    stacks.push(stack);
    const load = drive(stack, { count: 120, connections: 30, timeoutMs: 500 });
    let refusal: Awaited<ReturnType<Stack["request"]>> | undefined;
    for (let tries = 0; tries < 400 && !refusal; tries++) {
      const answer = await stack.request({ payload: 1, timeoutMs: 300 });
      if (answer.status === 503) refusal = answer;
    }
    await load;
    expect(refusal?.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(String(refusal?.body.error)).toContain("predicted wait");
  });
});
