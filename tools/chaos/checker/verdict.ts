/** The invariants, by the name the report uses (docs/reliability.md explains each). */
export type Rule =
  | "one-answer"
  | "contract-status"
  | "wrong-client"
  | "max-deliveries"
  | "single-call-without-fault"
  | "refused-but-processed"
  | "async-final-outcome"
  | "idempotent-once"
  | "dead-letters-match-502"
  | "nothing-pending"
  | "reply-streams-trimmed"
  | "memory-growth"
  | "faults-injected";

/** Collects violations by rule, with a few examples each (a bounded report however bad the run). */
export class Verdict {
  readonly counts = new Map<Rule, number>();
  readonly examples = new Map<Rule, string[]>();

  fail(rule: Rule, example: string): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
    const examples = this.examples.get(rule) ?? [];
    if (examples.length < 10) examples.push(example);
    this.examples.set(rule, examples);
  }

  get passed(): boolean {
    return this.counts.size === 0;
  }

  toJSON(): { passed: boolean; violations: { rule: Rule; count: number; examples: string[] }[] } {
    return {
      passed: this.passed,
      violations: [...this.counts].map(([rule, count]) => ({
        rule,
        count,
        examples: this.examples.get(rule) ?? [],
      })),
    };
  }
}
