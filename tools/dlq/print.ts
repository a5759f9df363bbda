import { type DeadLetterEntry, replayUrgency } from "@rsd/shared";

/**
 * A page of letters as a table (or JSON), without payloads. The tenant and urgency say which lane
 * a replay goes back onto with TENANT_LANES=on (DeadLetters.replay), as the admin API shows them.
 */
export function printLetters(
  page: { entries: DeadLetterEntry[]; next: string | null; total: number },
  json: boolean,
): void {
  const rows = page.entries.map((letter) => ({
    entryId: letter.id,
    requestId: letter.requestId ?? null,
    failedAt: new Date(letter.failedAt).toISOString(),
    attempts: letter.attempts ?? null,
    tenant: letter.tenant ?? null,
    urgency: replayUrgency(letter),
    replayable: letter.request !== undefined,
    error: letter.error,
  }));
  if (json) {
    console.log(JSON.stringify({ total: page.total, entries: rows, next: page.next }));
    return;
  }
  console.log(`${page.total} dead letter(s)`);
  if (rows.length > 0) console.log("entry\trequest\tfailed\tattempts\ttenant\turgency\treplay\terror");
  for (const row of rows)
    console.log(
      [
        row.entryId,
        row.requestId ?? "-",
        row.failedAt,
        row.attempts ?? "-",
        row.tenant ?? "-",
        `u=${row.urgency}`,
        row.replayable ? "replayable" : "-",
        row.error,
      ].join("\t"),
    );
  if (page.next) console.log(`more: --after ${page.next}`);
}
