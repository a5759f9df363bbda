import { describe, expect, test } from "bun:test";
import { decodeRequest, type EntryRef, noTerminal, type RequestMessage } from "@rsd/shared";
import { Counter } from "prom-client";
import { UnrecoverableError } from "../../proxy/src/handlers/handler.ts";
import type { ProcessedOutcome } from "../../proxy/src/metrics.ts";
import { FailurePolicy } from "../../proxy/src/recovery/failure-policy.ts";
import { ReplyWriter } from "../../proxy/src/reply-writer.ts";
import { waitFor } from "../helpers/wait.ts";
import { FakeCompletions } from "./fakes/completions.ts";
import { RecordingLogger } from "./fakes/logger.ts";
import { FakeRequestQueue } from "./fakes/request-queue.ts";

const pod = "proxy-a";
const replyTo = "unit:replies:ingress-1";
const maxDeliveries = 3;

/** A pod's failure policy over an in-memory queue, with its real ReplyWriter over in-memory Completions. */
function setup() {
  const queue = new FakeRequestQueue();
  const completions = new FakeCompletions(queue);
  const logger = new RecordingLogger();
  const processed: ProcessedOutcome[] = [];
  const refused = { count: 0, inc: () => refused.count++ };
  const writer = new ReplyWriter({
    completions,
    logger,
    failures: new Counter({ name: "unit_reply_write_failures_total", help: "unit", registers: [] }),
  });
  const policy = new FailurePolicy({
    queue,
    pod,
    maxDeliveries,
    writer,
    metrics: { countProcessed: (outcome) => processed.push(outcome) },
    logger,
    failures: refused,
    urgencyOf: (stream) => queue.keys.urgencyOf(stream),
  });
  const stream = queue.keys.requests;

  /** Enqueues a request at `attempt` and reads it as this pod: it is now held by the pod. */
  async function deliver(attempt = 1, id = "req-1"): Promise<{ entry: EntryRef; message: RequestMessage }> {
    const sent: RequestMessage = {
      id,
      replyTo,
      deadline: Date.now() + 30_000,
      enqueuedAt: Date.now() - 5000,
      payload: `{"n":${attempt}}`,
      attempt,
      resultTtlS: 0,
      kind: "json",
      retrySafe: true,
    };
    await queue.ensureGroup(stream);
    queue.enqueue(stream, sent, (error) => {
      throw error;
    });
    const [[entryId, fields]] = (await queue.readNew({ stream, pod, count: 1, blockMs: 0 })) as [
      [string, string[]],
    ];
    return { entry: { stream, id: entryId }, message: decodeRequest(fields) };
  }

  /** What the next reader of the stream gets (decoded), as another pod would. */
  async function readNext(): Promise<RequestMessage[]> {
    const entries = await queue.readNew({ stream, pod: "proxy-b", count: 10, blockMs: 0 });
    return entries.map(([, fields]) => decodeRequest(fields ?? []));
  }

  return { queue, completions, logger, processed, refused, writer, policy, stream, deliver, readNext };
}

describe("FailurePolicy: a failed attempt is retried while attempts remain", () => {
  test("it goes back to the end of its stream as attempt + 1, and its old entry is no longer held", async () => {
    const { policy, queue, deliver, readNext, processed, completions } = setup();
    const { entry, message } = await deliver(1);
    policy.failed(entry, message, new Error("backend said 502"));
    expect(policy.waiting).toEqual([entry]);

    await policy.flush();
    expect(policy.waiting).toEqual([]);
    expect(queue.heldBy(pod)).toEqual([]);
    expect(await readNext()).toEqual([{ ...message, attempt: 2 }]);
    expect(processed).toEqual(["error"]);
    expect(completions.replies(replyTo)).toEqual([]);
  });

  test("while it waits out its backoff the entry stays held by this pod (its claim is kept fresh)", async () => {
    const { policy, queue, deliver } = setup();
    const { entry, message } = await deliver(1);
    policy.failed(entry, message, new Error("timeout"));
    expect(queue.heldBy(pod)).toEqual([entry.id]);
    expect(policy.waiting).toEqual([entry]);
    await policy.flush();
  });

  test("the backoff timer requeues it on its own", async () => {
    const { policy, deliver, readNext } = setup();
    const { entry, message } = await deliver(2);
    policy.failed(entry, message, new Error("timeout"));
    await waitFor("the backoff to end", () => policy.waiting.length === 0);
    expect((await readNext()).map((next) => next.attempt)).toEqual([3]);
  });

  test("flush (at shutdown) runs every waiting retry now", async () => {
    const { policy, deliver, readNext } = setup();
    const first = await deliver(1, "a");
    const second = await deliver(2, "b");
    policy.failed(first.entry, first.message, new Error("x"));
    policy.failed(second.entry, second.message, new Error("y"));
    expect(policy.waiting).toHaveLength(2);
    await policy.flush();
    expect(policy.waiting).toEqual([]);
    expect((await readNext()).map((next) => [next.id, next.attempt])).toEqual([
      ["a", 2],
      ["b", 3],
    ]);
  });
});

describe("FailurePolicy: dead letters", () => {
  test("the attempt at MAX_DELIVERIES is dead-lettered: a failed reply, a dead letter with the payload, then the ack", async () => {
    const { policy, queue, completions, writer, deliver, readNext, processed } = setup();
    const { entry, message } = await deliver(maxDeliveries);
    const before = Date.now();
    policy.failed(entry, message, new Error("backend said 500"));
    expect(policy.waiting).toEqual([]);
    expect(await writer.drain(10_000)).toBe(true);

    expect(completions.replies(replyTo)).toEqual([
      {
        id: message.id,
        status: "failed",
        error: "failed after 3 attempt(s): backend said 500",
        pod,
        terminal: noTerminal,
        queuedMs: 0,
        processingMs: 0,
      },
    ]);
    const [letter] = completions.deadLetters;
    expect(letter).toMatchObject({
      requestId: message.id,
      entry: entry.id,
      attempts: 3,
      error: "backend said 500",
      payload: message.payload,
    });
    expect(letter?.failedAt).toBeGreaterThanOrEqual(before);
    // Read from the shard stream: the normal urgency, which the letter does not spell out.
    expect(letter?.urgency).toBeUndefined();
    expect(queue.heldBy(pod)).toEqual([]);
    expect(await readNext()).toEqual([]);
    expect(processed).toEqual(["dead"]);
  });

  test("a request read from a lane of urgency 0 keeps that urgency in its letter, for the replay", async () => {
    const { policy, queue, completions, writer, deliver } = setup();
    const { entry, message } = await deliver(maxDeliveries);
    // As if it had been read from acme's most urgent lane rather than the shard stream.
    const lane = { stream: queue.keys.lane(0, "acme", 0), id: entry.id };
    policy.deadLetter(lane, { ...message, tenant: "acme" }, "backend said 500");
    await writer.drain(10_000);
    expect(completions.deadLetters.map((letter) => [letter.tenant, letter.urgency])).toEqual([["acme", 0]]);
  });

  test("an UnrecoverableError is dead-lettered at the first attempt, without a retry", async () => {
    const { policy, completions, writer, deliver, readNext } = setup();
    const { entry, message } = await deliver(1);
    policy.failed(entry, message, new UnrecoverableError("payload is not valid for the backend"));
    await writer.drain(10_000);
    expect(completions.deadLetters.map((letter) => [letter.attempts, letter.error])).toEqual([
      [1, "payload is not valid for the backend"],
    ]);
    expect(await readNext()).toEqual([]);
  });

  test("a failure that is not an Error is kept as text in the reply and the dead letter", async () => {
    const { policy, completions, writer, deliver } = setup();
    const { entry, message } = await deliver(maxDeliveries);
    policy.failed(entry, message, "socket hang up");
    await writer.drain(10_000);
    expect(completions.replies(replyTo)[0]?.error).toBe("failed after 3 attempt(s): socket hang up");
    expect(completions.deadLetters[0]?.error).toBe("socket hang up");
  });
});

describe("FailurePolicy: expired requests", () => {
  test("an expired request is answered `expired` with its terminal and queue time, and never retried", async () => {
    const { policy, queue, completions, writer, deliver, readNext, processed } = setup();
    const { entry, message } = await deliver(1);
    const before = Date.now();
    policy.expired(entry, message, 2, 150);
    const after = Date.now();
    await writer.drain(10_000);

    const [reply] = completions.replies(replyTo);
    expect(reply).toMatchObject({
      id: message.id,
      status: "expired",
      error: "deadline passed",
      pod,
      terminal: 2,
    });
    expect(reply?.processingMs).toBe(150);
    // Queue time is the age of the request minus its processing time.
    expect(reply?.queuedMs).toBeGreaterThanOrEqual(before - message.enqueuedAt - 150);
    expect(reply?.queuedMs).toBeLessThanOrEqual(after - message.enqueuedAt - 150);
    expect(completions.deadLetters).toEqual([]);
    expect(queue.heldBy(pod)).toEqual([]);
    expect(await readNext()).toEqual([]);
    expect(processed).toEqual(["expired"]);
  });

  test("a request expired before any terminal ran it says noTerminal, and its queue time is never negative", async () => {
    const { policy, completions, writer, deliver } = setup();
    const { entry, message } = await deliver(1);
    policy.expired(entry, message, noTerminal, 60_000);
    await writer.drain(10_000);
    expect(completions.replies(replyTo)[0]).toMatchObject({ terminal: noTerminal, queuedMs: 0 });
  });
});

describe("FailurePolicy: when the protocol calls fail", () => {
  test("a requeue Redis does not take leaves the entry held by this pod for the reclaimer; nothing is lost or answered", async () => {
    const { policy, queue, completions, logger, refused, deliver, readNext } = setup();
    const { entry, message } = await deliver(1);
    queue.failNext("requeue", new Error("Connection closed"));
    policy.failed(entry, message, new Error("backend down"));
    await policy.flush();

    expect(policy.waiting).toEqual([]);
    expect(queue.heldBy(pod)).toEqual([entry.id]);
    expect(await readNext()).toEqual([]);
    expect(completions.replies(replyTo)).toEqual([]);
    expect(logger.at("warn")).toContain("requeue failed; the reclaimer will pick the request up");
    expect(refused.count).toBe(1);
  });

  test("a retry of an entry another pod took over meanwhile is skipped: the request is not queued twice", async () => {
    const { policy, queue, stream, logger, deliver, readNext } = setup();
    const { entry, message } = await deliver(1);
    policy.failed(entry, message, new Error("backend down"));
    await queue.claimIdle({ stream, pod: "proxy-b", minIdleMs: 0, cursor: "0-0", count: 10 });
    await policy.flush();

    expect(queue.heldBy("proxy-b")).toEqual([entry.id]);
    expect(await readNext()).toEqual([]);
    expect(logger.at("debug")).toContain("retry skipped: entry was reclaimed by another consumer");
  });

  test("a dead letter Redis refuses is not acknowledged; it is written and acknowledged once Redis takes it", async () => {
    const { policy, queue, completions, deliver } = setup();
    const { entry, message } = await deliver(maxDeliveries);
    completions.refuse();
    policy.failed(entry, message, new Error("backend said 500"));
    await waitFor("the first refused write", () => completions.refusals > 0);
    expect(completions.deadLetters).toEqual([]);
    expect(queue.heldBy(pod)).toEqual([entry.id]);

    completions.accept();
    await waitFor("the dead letter to be written", () => completions.deadLetters.length === 1);
    expect(queue.heldBy(pod)).toEqual([]);
    expect(completions.replies(replyTo).map((reply) => reply.status)).toEqual(["failed"]);
  });
});
