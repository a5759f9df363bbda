import { describe, expect, test } from "bun:test";
import type { ReplyMessage } from "@rsd/shared";
import { PendingReplies } from "../../ingress/src/replies/pending-replies.ts";
import { waitFor } from "../helpers/wait.ts";
import { FakeClock } from "./fakes/clock.ts";

const tickMs = 10;

function reply(id: string, result = "1"): ReplyMessage {
  return { id, status: "completed", result, pod: "p", terminal: 0, queuedMs: 0, processingMs: 0 };
}

/** A wheel on a clock that moves only when the test advances it; sweeps are the test's too. */
function wheel() {
  const clock = new FakeClock();
  const pending = new PendingReplies({ tickMs, now: clock.now });
  return { clock, pending, t0: clock.now() };
}

describe("PendingReplies: the ingress's waits for replies", () => {
  test("a registered wait is answered by its reply, once: a duplicate reply is refused", async () => {
    const { pending, t0 } = wheel();
    const waiting = pending.wait("a", t0 + 1000);
    expect(pending.has("a")).toBe(true);
    expect(pending.size).toBe(1);

    expect(pending.deliver(reply("a", "first"))).toBe(true);
    expect(pending.deliver(reply("a", "second"))).toBe(false);
    expect(await waiting).toEqual({ kind: "reply", reply: reply("a", "first") });
    expect(pending.has("a")).toBe(false);
    expect(pending.size).toBe(0);
  });

  test("a reply nobody waits for is refused and changes nothing", () => {
    const { pending, t0 } = wheel();
    void pending.wait("a", t0 + 1000);
    expect(pending.deliver(reply("stranger"))).toBe(false);
    expect(pending.has("a")).toBe(true);
    expect(pending.size).toBe(1);
  });

  test("each wait gets its own reply, whatever order the replies arrive in", async () => {
    const { pending, t0 } = wheel();
    const first = pending.wait("a", t0 + 1000);
    const second = pending.wait("b", t0 + 1000);
    pending.deliver(reply("b", "for b"));
    pending.deliver(reply("a", "for a"));
    expect(await first).toEqual({ kind: "reply", reply: reply("a", "for a") });
    expect(await second).toEqual({ kind: "reply", reply: reply("b", "for b") });
  });
});

describe("PendingReplies: deadlines in a timer wheel", () => {
  test("a wait past its deadline is answered once with timeout (the 504) and a later reply is ignored", async () => {
    const { clock, pending, t0 } = wheel();
    const waiting = pending.wait("a", t0 + 100);
    pending.sweep(clock.advance(100 + tickMs));
    expect(await waiting).toEqual({ kind: "timeout" });
    expect(pending.deliver(reply("a"))).toBe(false);
    expect(pending.size).toBe(0);
  });

  test("a wait never ends before its deadline, and at the latest one tick after it", () => {
    // Deadlines on and between slot boundaries: the bucketing must hold for every offset.
    for (let offset = 100; offset < 100 + 2 * tickMs; offset++) {
      const { pending, t0 } = wheel();
      void pending.wait("a", t0 + offset);
      pending.sweep(t0 + offset);
      expect(pending.has("a")).toBe(true);
      pending.sweep(t0 + offset + tickMs);
      expect(pending.has("a")).toBe(false);
    }
  });

  test("a sweep before the deadline leaves the wait alone, and a reply still answers it", async () => {
    const { pending, t0 } = wheel();
    const waiting = pending.wait("a", t0 + 500);
    pending.sweep(t0 + 250);
    pending.sweep(t0 + 499);
    expect(pending.has("a")).toBe(true);
    expect(pending.deliver(reply("a"))).toBe(true);
    expect((await waiting).kind).toBe("reply");
  });

  test("a deadline already past (a slot the sweep has left behind) ends at the next sweep, not never", async () => {
    const { clock, pending, t0 } = wheel();
    pending.sweep(clock.advance(1000));
    const waiting = pending.wait("late", t0 + 10);
    expect(pending.has("late")).toBe(true);
    pending.sweep(clock.advance(tickMs));
    expect(await waiting).toEqual({ kind: "timeout" });
  });

  test("waits sharing a deadline slot all end in one sweep; waits with later deadlines stay", async () => {
    const { pending, t0 } = wheel();
    const due = ["a", "b", "c"].map((id) => pending.wait(id, t0 + 200));
    void pending.wait("later", t0 + 10_000);
    pending.sweep(t0 + 200 + tickMs);
    for (const waiting of due) expect(await waiting).toEqual({ kind: "timeout" });
    expect(pending.size).toBe(1);
    expect(pending.has("later")).toBe(true);
  });

  test("one sweep after a long gap (the clock jumped ahead) ends every wait it passed, each once", async () => {
    const { clock, pending, t0 } = wheel();
    const outcomes: string[] = [];
    const waits = Array.from({ length: 50 }, (_, index) =>
      pending.wait(`w${index}`, t0 + 100 * (index + 1)).then((outcome) => outcomes.push(outcome.kind)),
    );
    pending.sweep(clock.advance(3_600_000));
    await Promise.all(waits);
    expect(outcomes).toEqual(Array(50).fill("timeout"));
    expect(pending.size).toBe(0);
    // The swept slots are gone: a later sweep has nothing left to answer.
    pending.sweep(clock.advance(tickMs));
    expect(outcomes).toHaveLength(50);
  });

  test("start() sweeps by the injected clock every tick, and stop() ends the loop", async () => {
    const { clock, pending, t0 } = wheel();
    pending.start();
    try {
      let outcome: string | undefined;
      void pending.wait("a", t0 + 100).then((ended) => {
        outcome = ended.kind;
      });
      clock.advance(100 + tickMs);
      expect(await waitFor("the running sweep to end the wait", () => outcome)).toBe("timeout");
    } finally {
      pending.stop();
    }
  });
});

describe("PendingReplies: every other way out, and nothing left behind", () => {
  test("unavailable ends a wait whose request never reached the stream; its reply is ignored later", async () => {
    const { pending, t0 } = wheel();
    const waiting = pending.wait("a", t0 + 1000);
    pending.unavailable("a");
    pending.unavailable("a");
    expect(await waiting).toEqual({ kind: "unavailable" });
    expect(pending.deliver(reply("a"))).toBe(false);
  });

  test("abandonAll ends every wait with shutdown and leaves the wheel empty", async () => {
    const { clock, pending, t0 } = wheel();
    const waits = ["a", "b", "c"].map((id, index) => pending.wait(id, t0 + 100 * (index + 1)));
    pending.abandonAll();
    for (const waiting of waits) expect(await waiting).toEqual({ kind: "shutdown" });
    expect(pending.size).toBe(0);
    // Their deadline slots no longer hold them: the sweep answers nobody twice.
    pending.sweep(clock.advance(1000));
    expect(pending.size).toBe(0);
  });

  test("answered waits leave their deadline slot: the sweep does not end a new wait early", async () => {
    const { pending, t0 } = wheel();
    void pending.wait("a", t0 + 100);
    pending.deliver(reply("a"));
    // Same id again (a retried client call), with a later deadline.
    const again = pending.wait("a", t0 + 5000);
    pending.sweep(t0 + 100 + tickMs);
    expect(pending.has("a")).toBe(true);
    pending.deliver(reply("a", "second"));
    expect(await again).toEqual({ kind: "reply", reply: reply("a", "second") });
  });

  test("size counts the waits in progress: registration adds one, every outcome takes one away", () => {
    const { clock, pending, t0 } = wheel();
    for (let index = 0; index < 100; index++) void pending.wait(`w${index}`, t0 + 100);
    expect(pending.size).toBe(100);
    pending.deliver(reply("w0"));
    pending.unavailable("w1");
    expect(pending.size).toBe(98);
    pending.sweep(clock.advance(100 + tickMs));
    expect(pending.size).toBe(0);
  });
});
