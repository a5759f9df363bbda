import { isFinal, type ReplyMessage, type ResultStore } from "@rsd/shared";

/**
 * Polls the stored outcome of `id` until it is final or `deadline` passes: how a duplicate
 * request (same Idempotency-Key) waits for the first one's outcome.
 */
export async function waitForFinal(wait: {
  results: Pick<ResultStore, "read">;
  id: string;
  /** Whose result it is (undefined = `default`). */
  tenant: string | undefined;
  deadline: number;
  signal: AbortSignal;
}): Promise<ReplyMessage | undefined> {
  const { results, id, tenant, deadline, signal } = wait;
  let delay = 10;
  while (Date.now() < deadline && !signal.aborted) {
    const record = await results.read(id, tenant);
    if (isFinal(record)) return record;
    await Bun.sleep(Math.min(delay, Math.max(0, deadline - Date.now())));
    delay = Math.min(delay * 2, 200);
  }
  return undefined;
}
