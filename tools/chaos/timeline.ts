import type { InjectedFault } from "./faults.ts";
import type { RequestRecord } from "./records.ts";

export interface TimelinePoint {
  atS: number;
  sent: number;
  /** 200 answers (an async request's final 200 counts when it was polled). */
  succeeded: number;
  /** 503: refused, the client may retry. */
  refused: number;
  /** 502, 504, a backend's 500 and failed connections. */
  failed: number;
}

export interface Recovery {
  seq: number;
  kind: string;
  /** From the tool putting things back to the first 200 of a request sent after that (null: none). */
  recoveredAfterMs: number | null;
}

/** One point a second: what was sent, answered well, refused and failed in it. */
export function buildTimeline(records: readonly RequestRecord[], durationS: number): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  const at = (ms: number): TimelinePoint => {
    const index = Math.max(0, Math.floor(ms / 1000));
    while (points.length <= index)
      points.push({ atS: points.length, sent: 0, succeeded: 0, refused: 0, failed: 0 });
    return points[index] as TimelinePoint;
  };
  at(durationS * 1000 - 1);
  for (const record of records) {
    at(record.sentAtMs).sent++;
    if (record.transportError) at(record.transportErrorAtMs ?? record.sentAtMs).failed++;
    for (const answer of [record.answer, record.final]) {
      if (!answer || answer.status === 202) continue;
      const point = at(answer.atMs);
      if (answer.status === 200) point.succeeded++;
      else if (answer.status === 503) point.refused++;
      else point.failed++;
    }
  }
  return points;
}

export function recoveries(records: readonly RequestRecord[], faults: readonly InjectedFault[]): Recovery[] {
  return faults.map((fault) => {
    let first = Number.POSITIVE_INFINITY;
    for (const record of records) {
      if (record.sentAtMs < fault.endMs) continue;
      for (const answer of [record.answer, record.final])
        if (answer?.status === 200 && answer.atMs < first) first = answer.atMs;
    }
    return {
      seq: fault.seq,
      kind: fault.kind,
      recoveredAfterMs: Number.isFinite(first) ? first - fault.endMs : null,
    };
  });
}
