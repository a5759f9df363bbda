import type { RequestRecord } from "../records.ts";
import { type AnswerCounts, checkAnswers } from "./answers.ts";
import { checkMemory, type MemoryGrowth, type MemorySeries } from "./memory.ts";
import { type AuditReport, auditRedis } from "./redis-audit.ts";
import { Verdict } from "./verdict.ts";
import type { FaultSpan } from "./windows.ts";

export interface CheckInput {
  records: readonly RequestRecord[];
  calls: ReadonlyMap<string, number>;
  unmarkedCalls: number;
  faults: readonly (FaultSpan & { error?: string | undefined })[];
  maxDeliveries: number;
  settleMs: number;
  redisUrl: string;
  prefix: string;
  liveIngresses: number;
  /** RSS of every service process over its life. */
  rss: readonly MemorySeries[];
  /** A process is judged on memory when it lived at least this long under load. */
  minLifeMs: number;
}

export interface CheckResult {
  verdict: ReturnType<Verdict["toJSON"]>;
  counts: AnswerCounts;
  redis: AuditReport;
  memory: MemoryGrowth[];
}

/**
 * The independent checker: judges the run from the clients' records, the recording backend's
 * counts and Redis as read with its own client. It imports nothing from ingress/, proxy/ or
 * shared/: key names and record layouts come from docs/contract.md, rules from docs/reliability.md.
 */
export async function check(input: CheckInput): Promise<CheckResult> {
  const verdict = new Verdict();
  for (const fault of input.faults)
    if (fault.error) verdict.fail("faults-injected", `${fault.kind}#${fault.target}: ${fault.error}`);
  const counts = checkAnswers(input, verdict);
  const succeededIds = new Set(
    input.records.flatMap((record) =>
      [record.answer, record.final].flatMap((answer) =>
        answer?.status === 200 && answer.id ? [answer.id] : [],
      ),
    ),
  );
  const redis = await auditRedis(
    {
      redisUrl: input.redisUrl,
      prefix: input.prefix,
      liveIngresses: input.liveIngresses,
      counts,
      succeededIds,
    },
    verdict,
  );
  const memory = checkMemory(input.rss, input.minLifeMs, verdict);
  return { verdict: verdict.toJSON(), counts, redis, memory };
}
