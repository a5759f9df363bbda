import type { ChaosReport } from "./run.ts";

/** The console report: the counts the issue asks for, then the faults with their recovery, then the verdict. */
export function formatReport(report: ChaosReport): string {
  const { counts, redis, verdict, memory } = report.check;
  const lines: string[] = [];
  const row = (name: string, value: string | number) => lines.push(`| ${name} | ${value} |`);
  lines.push(
    `chaos ${report.profile}, seed ${report.seed}, ${report.durationS} s of load, ${report.wallS} s in all`,
  );
  lines.push(`replay: ${report.command}`, "");
  lines.push("| count | value |", "|---|---|");
  row("requests sent", counts.sent);
  for (const [status, n] of Object.entries(counts.byStatus).sort()) row(`answered ${status}`, n);
  for (const [status, n] of Object.entries(counts.asyncFinal).sort()) row(`async final ${status}`, n);
  row(
    "no answer: connection failed during its ingress's restart (allowed)",
    counts.transportErrorsFromFaults,
  );
  row("**lost** (no answer otherwise)", counts.lost);
  row("**wrong client** (a reply with another request's marker)", counts.wrongClient);
  row("**duplicates beyond the rules**", counts.duplicatesBeyondRules);
  row(
    "answered 200 with no fault in their window (held to exactly one backend call)",
    counts.judgedSingleCall,
  );
  row(
    "502 / 504 with no fault in their window (allowed, counted)",
    `${counts.withoutFault["502"] ?? 0} / ${counts.withoutFault["504"] ?? 0}`,
  );
  row(
    "backend calls per marker",
    Object.entries(counts.callsPerMarker)
      .map(([calls, n]) => `${calls}×: ${n}`)
      .join(", "),
  );
  row(
    "dead letters (= 502s, + after a 504, + unattributed)",
    `${redis.deadLetters} (${new Set(counts.failedIds).size}, ${redis.deadAfterTimeout}, ${redis.deadUnattributed})`,
  );
  row("left pending / lag after the run", `${redis.pending} / ${redis.lag}`);
  row(
    "reply streams after the run (entries)",
    redis.replyStreams.map((stream) => stream.length).join(", ") || "none",
  );
  row("not sent (in-flight cap)", report.skipped);
  row(
    "burst requests by first answer (503: past MAX_QUEUE_DEPTH)",
    Object.entries(report.burstAnswers)
      .map(([status, n]) => `${status}: ${n}`)
      .join(", ") || "no burst",
  );
  const largest = [...memory].sort((a, b) => b.growth - a.growth)[0];
  row(
    "RSS growth from the middle to the end of each process's life (long-lived ones)",
    largest
      ? `${memory.length} judged, largest ${signed(largest.growth)} (${largest.name}, ${seconds(largest.fromMs)}–${seconds(largest.toMs)})`
      : "no process lived long enough to judge",
  );
  lines.push("", "| # | at s | fault | took s | recovered after s |", "|---|---|---|---|---|");
  for (const fault of report.faults) {
    const recovery = report.recoveries.find((entry) => entry.seq === fault.seq)?.recoveredAfterMs;
    lines.push(
      `| ${fault.seq + 1} | ${(fault.startMs / 1000).toFixed(1)} | ${fault.error ? `FAILED TO INJECT ${fault.kind}: ${fault.error}` : fault.detail} | ${((fault.endMs - fault.startMs) / 1000).toFixed(1)} | ${recovery == null ? "—" : (recovery / 1000).toFixed(2)} |`,
    );
  }
  lines.push("");
  if (verdict.passed) lines.push("PASS: every invariant held.");
  else {
    lines.push("FAIL: invariants violated:");
    for (const violation of verdict.violations) {
      lines.push(`  ${violation.rule}: ${violation.count}`);
      for (const example of violation.examples) lines.push(`    - ${example}`);
    }
  }
  return lines.join("\n");
}

function signed(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(0)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(0)} s`;
}
