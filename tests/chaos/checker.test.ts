import { describe, expect, test } from "bun:test";
import { checkAnswers } from "../../tools/chaos/checker/answers.ts";
import { Verdict } from "../../tools/chaos/checker/verdict.ts";
import { profiles } from "../../tools/chaos/profiles.ts";
import type { RequestRecord } from "../../tools/chaos/records.ts";
import { faultKinds, planFaults, resourceOf } from "../../tools/chaos/schedule.ts";

/** The checker's rules on hand-made runs: what it must flag, and what it must allow. */
function judge(
  records: RequestRecord[],
  calls: Record<string, number>,
  faults: { kind: string; target: number; startMs: number; endMs: number }[] = [],
) {
  const verdict = new Verdict();
  const counts = checkAnswers(
    {
      records,
      calls: new Map(Object.entries(calls)),
      unmarkedCalls: 0,
      faults,
      maxDeliveries: 3,
      settleMs: 1_000,
    },
    verdict,
  );
  return { counts, rules: verdict.toJSON().violations.map((violation) => violation.rule) };
}

const sync = (seq: number, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  seq,
  marker: `m${seq}`,
  route: "sync",
  ingress: 0,
  sentAtMs: 10_000,
  answer: { status: 200, atMs: 10_050, id: `id${seq}`, marker: `m${seq}` },
  ...extra,
});

describe("the chaos checker", () => {
  test("a clean run passes", () => {
    expect(judge([sync(1), sync(2)], { m1: 1, m2: 1 }).rules).toEqual([]);
  });

  test("a 200 carrying another request's marker is a wrong-client reply", () => {
    const record = sync(1, { answer: { status: 200, atMs: 10_050, id: "id1", marker: "m2" } });
    const { counts, rules } = judge([record, sync(2)], { m1: 1, m2: 1 });
    expect(rules).toContain("wrong-client");
    expect(counts.wrongClient).toBe(1);
  });

  test("a 503 whose request the backend saw broke 'not accepted'", () => {
    const record = sync(1, { answer: { status: 503, atMs: 10_050 } });
    expect(judge([record], { m1: 1 }).rules).toEqual(["refused-but-processed"]);
    expect(judge([record], {}).rules).toEqual([]);
  });

  test("two backend calls for a 200 need a fault in the request's window; more than MAX_DELIVERIES never pass", () => {
    expect(judge([sync(1)], { m1: 2 }).rules).toEqual(["single-call-without-fault"]);
    const kill = { kind: "proxy-kill-same-name", target: 0, startMs: 9_000, endMs: 9_500 };
    expect(judge([sync(1)], { m1: 2 }, [kill]).rules).toEqual([]);
    expect(judge([sync(1)], { m1: 4 }, [kill]).rules).toContain("max-deliveries");
  });

  test("no answer is lost, except a connection cut while the tool restarted that very ingress", () => {
    const cut = sync(1, { answer: undefined, transportError: "ECONNRESET", transportErrorAtMs: 10_100 });
    expect(judge([cut], {}).rules).toEqual(["one-answer"]);
    const restart = { kind: "ingress-restart", target: 0, startMs: 10_000, endMs: 10_400 };
    expect(judge([cut], {}, [restart]).rules).toEqual([]);
    expect(judge([{ ...cut, ingress: 1 }], {}, [restart]).rules).toEqual(["one-answer"]);
    // The client's own bound passing is a hang, whatever happened around it.
    expect(judge([{ ...cut, transportError: "client gave up" }], {}, [restart]).rules).toEqual([
      "one-answer",
    ]);
  });

  test("an accepted async request needs a final outcome; an idempotent pair one id", () => {
    const accepted = sync(1, { route: "async", answer: { status: 202, atMs: 10_010, id: "id1" } });
    expect(judge([accepted], { m1: 1 }).rules).toEqual(["async-final-outcome"]);
    const first = sync(1, { idempotencyKey: "k1" });
    const second = sync(2, {
      marker: "m1",
      idempotencyKey: "k1",
      duplicateOf: 1,
      answer: { status: 200, atMs: 10_060, id: "other", marker: "m1" },
    });
    expect(judge([first, second], { m1: 1 }).rules).toEqual(["idempotent-once"]);
    // A poll that finds no record of an accepted request lost its stored outcome.
    const polled = {
      ...accepted,
      final: { status: 200, atMs: 10_500, id: "id1", marker: "m1" },
      polls: { "202": 1, "200": 1 },
    };
    expect(judge([polled], { m1: 1 }).rules).toEqual([]);
    expect(judge([{ ...polled, polls: { "404": 1, "200": 1 } }], { m1: 1 }).rules).toEqual([
      "async-final-outcome",
    ]);
  });

  test("statuses outside the contract, or a 4xx to a valid request, are flagged", () => {
    expect(judge([sync(1, { answer: { status: 500, atMs: 10_050 } })], {}).rules).toEqual([
      "contract-status",
    ]);
    expect(judge([sync(1, { answer: { status: 422, atMs: 10_050 } })], {}).rules).toEqual([
      "contract-status",
    ]);
    expect(judge([sync(1, { answer: { status: 202, atMs: 10_050, id: "id1" } })], {}).rules).toEqual([
      "contract-status",
    ]);
  });
});

describe("the fault plan", () => {
  test("is a function of the seed: same seed, same faults at the same offsets", () => {
    expect(planFaults(42, profiles.full, 600)).toEqual(planFaults(42, profiles.full, 600));
    expect(planFaults(42, profiles.full, 600)).not.toEqual(planFaults(43, profiles.full, 600));
  });

  test("quick uses every kind once, inside the load, leaving its tail quiet", () => {
    const plan = planFaults(7, profiles.quick, profiles.quick.durationS);
    expect(plan.map((fault) => fault.kind).sort()).toEqual([...faultKinds].sort());
    for (const fault of plan)
      expect(fault.atS).toBeLessThanOrEqual(profiles.quick.durationS - profiles.quick.tailS + 1);
  });

  test("full combines faults, never two on the same resource in one slot", () => {
    const plan = planFaults(1, profiles.full, 600);
    const bySlot = Map.groupBy(plan, (fault) => Math.floor(fault.atS / profiles.full.slotS));
    expect([...bySlot.values()].some((slot) => slot.length > 1)).toBe(true);
    for (const slot of bySlot.values())
      expect(new Set(slot.map((fault) => resourceOf(fault.kind))).size).toBe(slot.length);
  });
});
