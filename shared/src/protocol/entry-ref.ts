/** Where a request sits in Redis: its request stream (shard) and its entry id there. */
export interface EntryRef {
  stream: string;
  id: string;
}

/** A map key for an entry (ids are unique per stream, not across shards). */
export function refKey(ref: EntryRef): string {
  return `${ref.stream} ${ref.id}`;
}

/** Entry ids grouped by stream, for commands that take many ids of one key (XACK, XCLAIM). */
export function idsByStream(refs: Iterable<EntryRef>): Map<string, string[]> {
  const grouped = new Map<string, string[]>();
  for (const { stream, id } of refs) {
    const ids = grouped.get(stream);
    if (ids) ids.push(id);
    else grouped.set(stream, [id]);
  }
  return grouped;
}
