import { describe, expect, test } from "bun:test";
import type { Dispatched, LaneEntry } from "@rsd/shared";
import { LaneReader } from "../../proxy/src/lanes/lane-reader.ts";

const entry = (id: string): LaneEntry => ["lane", id, ["m", id]];

/** A scripted LaneQueue: each dispatch answers the next prepared reply and records whether it could hold. */
function scripted(replies: Partial<Dispatched>[], woke: boolean[]) {
  const holds: boolean[] = [];
  const waits: number[] = [];
  return {
    holds,
    waits,
    lanes: {
      async dispatch(_shard: number, _pod: string, _count: number, hold = false): Promise<Dispatched> {
        holds.push(hold);
        const reply = replies.shift() ?? {};
        return { entries: [], counts: [], held: 0, wakeAfter: ["0-0", "0-0"], ...reply };
      },
      async waitForWork(_shard: number, _after: [string, string], blockMs: number): Promise<boolean> {
        waits.push(blockMs);
        return woke.shift() ?? false;
      },
    },
  };
}

describe("the lane reader's anticipation", () => {
  test("entries picked beside a hold start at once; the held terminals wait for the bell", async () => {
    const queue = scripted(
      [{ entries: [entry("a1")], held: 1 }, { held: 1 }, { entries: [entry("b1")] }],
      [true],
    );
    const reader = new LaneReader(queue.lanes, 0, 1000);
    expect(await reader.read("p", 2, 1000)).toEqual([entry("a1")]);
    expect(await reader.read("p", 1, 1000)).toEqual([]);
    expect(queue.waits).toHaveLength(1);
    expect(queue.waits[0]).toBeLessThanOrEqual(1000);
    expect(await reader.read("p", 1, 1000)).toEqual([entry("b1")]);
    expect(queue.holds).toEqual([true, true, true]);
  });

  test("a hold nobody came for hands the terminal over and holding backs off", async () => {
    const queue = scripted([{ held: 1 }, { entries: [entry("a2")] }, { entries: [entry("a3")] }], [false]);
    const reader = new LaneReader(queue.lanes, 0, 1000);
    expect(await reader.read("p", 1, 1000)).toEqual([]);
    // The episode ran out: the next dispatches may not hold (for 20 hold times).
    expect(await reader.read("p", 1, 1000)).toEqual([entry("a2")]);
    expect(await reader.read("p", 1, 1000)).toEqual([entry("a3")]);
    expect(queue.holds).toEqual([true, false, false]);
  });

  test("LANE_HOLD_MS=0 never holds; an idle dispatch blocks for the read's block time", async () => {
    const queue = scripted([{}], [false]);
    const reader = new LaneReader(queue.lanes, 0, 0);
    expect(await reader.read("p", 3, 700)).toEqual([]);
    expect(queue.holds).toEqual([false]);
    expect(queue.waits).toEqual([700]);
  });
});
