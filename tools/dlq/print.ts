import type { DeadLetterEntry } from "@rsd/shared";

/** A page of letters as a table (or JSON), without payloads. */
export function printLetters(
  page: { entries: DeadLetterEntry[]; next: string | null; total: number },
  json: boolean,
): void {
  const rows = page.entries.map((letter) => ({
    entryId: letter.id,
    requestId: letter.requestId ?? null,
    failedAt: new Date(letter.failedAt).toISOString(),
    attempts: letter.attempts ?? null,
    replayable: letter.request !== undefined,
    error: letter.error,
  }));
  if (json) {
    console.log(JSON.stringify({ total: page.total, entries: rows, next: page.next }));
    return;
  }
  console.log(`${page.total} dead letter(s)`);
  for (const row of rows)
    console.log(
      [
        row.entryId,
        row.requestId ?? "-",
        row.failedAt,
        row.attempts ?? "-",
        row.replayable ? "replayable" : "-",
        row.error,
      ].join("\t"),
    );
  if (page.next) console.log(`more: --after ${page.next}`);
}
