import { type Answer, contractStatuses, type RequestRecord } from "../records.ts";
import type { Verdict } from "./verdict.ts";
import { type FaultSpan, influenceWindows, overlapping } from "./windows.ts";

export interface AnswerCheckInput {
  records: readonly RequestRecord[];
  /** The recording backend's calls by marker: the ground truth of what was processed. */
  calls: ReadonlyMap<string, number>;
  unmarkedCalls: number;
  faults: readonly FaultSpan[];
  maxDeliveries: number;
  /** How long a fault can still explain retries and reclaims after it ended. */
  settleMs: number;
}

/** What the client side of the run adds up to (the report's counts). */
export interface AnswerCounts {
  sent: number;
  /** First HTTP answer by status (a /proxy/* answer from the backend is `backend <status>`). */
  byStatus: Record<string, number>;
  /** Async requests' final stored outcome by status. */
  asyncFinal: Record<string, number>;
  /** Connections that failed while the tool was restarting the ingress they went to (allowed). */
  transportErrorsFromFaults: number;
  /** A few of those, to read: marker, ingress, when, the error. */
  transportErrorExamples: string[];
  lost: number;
  wrongClient: number;
  duplicatesBeyondRules: number;
  /** Markers answered 200 with no fault in their window: held to exactly one backend call. */
  judgedSingleCall: number;
  /**
   * 502 and 504 answers with no fault in the request's window. The contract allows both at any
   * time (attempts exhausted, a deadline), so they are counted, not failed: a number that grows
   * from run to run is worth a look.
   */
  withoutFault: Record<string, number>;
  /** Backend calls by how many times one marker was called: { "1": n, "2": n, … }. */
  callsPerMarker: Record<string, number>;
  /** Ids the gateway answered 502 for (sync, /proxy/* or an async request's final outcome). */
  failedIds: string[];
  /** Ids answered 504: their requests may still have run, and failed, after the client heard. */
  timedOutIds: string[];
  /** Async requests that were accepted (202), by id. */
  acceptedAsyncIds: string[];
}

/**
 * Judges every request from what its client saw and what the backend recorded, by the rules of
 * docs/contract.md and docs/architecture.md ("Delivery semantics"); nothing of the services' own
 * code is used to decide.
 */
export function checkAnswers(input: AnswerCheckInput, verdict: Verdict): AnswerCounts {
  const windows = influenceWindows(input.faults, input.settleMs);
  const counts: AnswerCounts = {
    sent: input.records.length,
    byStatus: {},
    asyncFinal: {},
    transportErrorsFromFaults: 0,
    transportErrorExamples: [],
    lost: 0,
    wrongClient: 0,
    duplicatesBeyondRules: 0,
    judgedSingleCall: 0,
    withoutFault: {},
    callsPerMarker: {},
    failedIds: [],
    timedOutIds: [],
    acceptedAsyncIds: [],
  };
  const groups = new Map<string, RequestRecord[]>();
  for (const record of input.records) {
    groups.set(record.marker, [...(groups.get(record.marker) ?? []), record]);
    checkOne(record, input, counts, verdict);
    countWithoutFault(record, windows, counts);
  }
  for (const [marker, group] of groups) checkGroup(marker, group, input, windows, counts, verdict);
  if (input.unmarkedCalls > 0)
    verdict.fail("wrong-client", `${input.unmarkedCalls} backend call(s) carried no marker`);
  for (const marker of input.calls.keys())
    if (!groups.has(marker))
      verdict.fail("wrong-client", `the backend was called for ${marker}, which nobody sent`);
  return counts;
}

function checkOne(
  record: RequestRecord,
  input: AnswerCheckInput,
  counts: AnswerCounts,
  verdict: Verdict,
): void {
  const answer = record.answer;
  const name = `${record.marker} (${record.route}, ingress ${record.ingress + 1})`;
  if (!answer) {
    if (
      record.transportError &&
      record.transportError !== "client gave up" &&
      duringOwnIngressRestart(record, input.faults)
    ) {
      counts.transportErrorsFromFaults++;
      if (counts.transportErrorExamples.length < 10)
        counts.transportErrorExamples.push(
          `${name} sent at ${record.sentAtMs} ms, failed at ${record.transportErrorAtMs} ms: ${record.transportError}`,
        );
      return;
    }
    counts.lost++;
    verdict.fail(
      "one-answer",
      `${name}: no HTTP answer (${record.transportError ?? "none"}) at ${record.sentAtMs} ms`,
    );
    return;
  }
  const key = answer.fromBackend ? `backend ${answer.status}` : String(answer.status);
  counts.byStatus[key] = (counts.byStatus[key] ?? 0) + 1;
  if (!statusAllowed(record, answer)) verdict.fail("contract-status", `${name}: ${key}`);
  if (isSuccess(answer) || answer.fromBackend) checkMarker(record, answer, name, counts, verdict);
  if (answer.status === 502 && !answer.fromBackend && answer.id) counts.failedIds.push(answer.id);
  if (answer.status === 504 && answer.id) counts.timedOutIds.push(answer.id);
  if (record.route !== "async" || answer.status !== 202) return;
  if (answer.id) counts.acceptedAsyncIds.push(answer.id);
  checkPolls(record, name, verdict);
  const final = record.final;
  if (!final) {
    verdict.fail(
      "async-final-outcome",
      `${name}: accepted (202) but no final outcome by polling (${JSON.stringify(record.polls)})`,
    );
    return;
  }
  counts.asyncFinal[String(final.status)] = (counts.asyncFinal[String(final.status)] ?? 0) + 1;
  if (final.status === 200) checkMarker(record, final, name, counts, verdict);
  if (final.status === 502 && final.id) counts.failedIds.push(final.id);
  if (final.status === 504 && final.id) counts.timedOutIds.push(final.id);
  if (final.id !== answer.id) verdict.fail("wrong-client", `${name}: polled ${answer.id}, got ${final.id}`);
}

/**
 * Polls of an accepted request answer with the contract's statuses, and never 404: its pending
 * record was stored before the 202, and Redis keeps it (AOF) for RESULT_TTL_S. A failed poll
 * connection (status 0) is retried, like a 503.
 */
function checkPolls(record: RequestRecord, name: string, verdict: Verdict): void {
  for (const [status, n] of Object.entries(record.polls ?? {})) {
    if (status === "0") continue;
    if (status === "404") verdict.fail("async-final-outcome", `${name}: accepted, then polled 404 (${n}×)`);
    else if (!contractStatuses.poll.has(Number(status)) || Number(status) === 400)
      verdict.fail("contract-status", `${name}: a poll answered ${status} (${n}×)`);
  }
}

function countWithoutFault(
  record: RequestRecord,
  windows: ReturnType<typeof influenceWindows>,
  counts: AnswerCounts,
): void {
  for (const answer of [record.answer, record.final]) {
    if (!answer || answer.fromBackend || (answer.status !== 502 && answer.status !== 504)) continue;
    if (overlapping(windows, record.sentAtMs, answer.atMs).length > 0) continue;
    counts.withoutFault[String(answer.status)] = (counts.withoutFault[String(answer.status)] ?? 0) + 1;
  }
}

/** A 4xx never fits: the tool only sends valid requests; 202 only answers an async request. */
function statusAllowed(record: RequestRecord, answer: Answer): boolean {
  if (answer.fromBackend) return answer.status === 200 || answer.status === 500;
  const proxy = record.route === "proxy-get" || record.route === "proxy-post";
  if (!(proxy ? contractStatuses.proxy : contractStatuses.api).has(answer.status)) return false;
  if (answer.status >= 400 && answer.status < 500) return false;
  return answer.status !== 202 || record.route === "async";
}

function isSuccess(answer: Answer): boolean {
  return answer.status === 200;
}

function checkMarker(
  record: RequestRecord,
  answer: Answer,
  name: string,
  counts: AnswerCounts,
  verdict: Verdict,
): void {
  if (answer.marker === record.marker) return;
  counts.wrongClient++;
  verdict.fail("wrong-client", `${name}: answered ${answer.status} with marker ${answer.marker ?? "(none)"}`);
}

/** A connection may fail while the tool stops and restarts the very ingress it went to. */
function duringOwnIngressRestart(record: RequestRecord, faults: readonly FaultSpan[]): boolean {
  const errorAt = record.transportErrorAtMs ?? record.sentAtMs;
  return faults.some(
    (fault) =>
      fault.kind === "ingress-restart" &&
      fault.target === record.ingress &&
      fault.startMs <= errorAt &&
      record.sentAtMs <= fault.endMs,
  );
}

/** The rules on one marker: its request and, for an idempotent one, its duplicate send. */
function checkGroup(
  marker: string,
  group: readonly RequestRecord[],
  input: AnswerCheckInput,
  windows: ReturnType<typeof influenceWindows>,
  counts: AnswerCounts,
  verdict: Verdict,
): void {
  const calls = input.calls.get(marker) ?? 0;
  counts.callsPerMarker[String(calls)] = (counts.callsPerMarker[String(calls)] ?? 0) + 1;
  const answers = group.flatMap((record) => (record.answer ? [record.answer] : []));
  const finals = group.flatMap((record) => (record.final ? [record.final] : []));
  if (calls > input.maxDeliveries) {
    counts.duplicatesBeyondRules++;
    verdict.fail(
      "max-deliveries",
      `${marker}: the backend was called ${calls} times (MAX_DELIVERIES ${input.maxDeliveries})`,
    );
  }
  // 503 means "not accepted, you may retry": the backend must never see such a request.
  if (
    answers.length === group.length &&
    answers.every((answer) => answer.status === 503 && !answer.fromBackend) &&
    calls > 0
  )
    verdict.fail(
      "refused-but-processed",
      `${marker}: answered 503 (not accepted), yet the backend was called ${calls} time(s)`,
    );
  const ids = new Set([...answers, ...finals].flatMap((answer) => (answer.id ? [answer.id] : [])));
  if (ids.size > 1)
    verdict.fail("idempotent-once", `${marker}: one Idempotency-Key, several ids: ${[...ids].join(", ")}`);
  const succeeded = [...answers, ...finals].some((answer) => answer.status === 200);
  if (!succeeded) return;
  const from = Math.min(...group.map((record) => record.sentAtMs));
  const to = Math.max(...[...answers, ...finals].map((answer) => answer.atMs), from);
  if (overlapping(windows, from, to).length > 0) return;
  counts.judgedSingleCall++;
  if (calls <= 1) return;
  counts.duplicatesBeyondRules++;
  verdict.fail(
    group.length > 1 ? "idempotent-once" : "single-call-without-fault",
    `${marker}: answered 200 with no fault in its window (${from}–${to} ms), yet the backend was called ${calls} times`,
  );
}
