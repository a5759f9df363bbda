/**
 * Promise.all for starting processes at once, except that it settles only when every start has.
 * Promise.all fails at the first failed start while the others are still starting; the caller's
 * cleanup then runs before those are ready and registered, and they are left running, unowned.
 * Here the caller's cleanup sees every process that started. Fails with the first failure.
 */
export async function allStarted<T>(starts: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((result): result is PromiseRejectedResult => result.status === "rejected");
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value);
}
