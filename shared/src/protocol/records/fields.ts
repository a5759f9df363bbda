/**
 * How the stream records (request, reply) are laid out: two fields, `m`, the metadata as
 * space-separated words, and the body (`payload`, or `result` / `ref` / `error`) as it is. Every
 * metadata word comes from a restricted alphabet (UUIDs, numbers, key names of
 * [A-Za-z0-9._:{}-], pod names, traceparent hex), so a space never needs escaping. Two fields
 * instead of up to twenty: each field is a string that Redis stores and both clients encode,
 * parse and allocate per request, and with a zero-time backend that per-request work is what the
 * gateway costs (docs/benchmarks.md).
 *
 * Versioning (docs/contract.md, "Rolling upgrades"): words are only ever appended. A reader
 * accepts more words than it knows and ignores them, so a newer writer never breaks an older
 * reader; a change an older reader could not ignore needs a new field name.
 */
export const META = "m";
export const ABSENT = "-";

/** Thrown for a record that cannot be decoded: its entry is dead-lettered, never retried. */
export class MalformedMessageError extends Error {
  override name = "MalformedMessageError";
}

/** The metadata words of an entry (at least `words` of them); `body` is the value of the named body field. */
export function unpack(
  fields: readonly string[],
  words: number,
  what: string,
): { meta: string[]; bodyField: string | undefined; body: string | undefined } {
  if (fields[0] !== META || typeof fields[1] !== "string")
    throw new MalformedMessageError(`not a ${what}: no "${META}" field first`);
  const meta = fields[1].split(" ");
  if (meta.length < words)
    throw new MalformedMessageError(`${what} metadata has ${meta.length} words, expected ${words}`);
  return { meta, bodyField: fields[2], body: fields[3] };
}

export function numberAt(meta: string[], index: number, name: string): number {
  const value = Number(meta[index]);
  if (meta[index] === "" || !Number.isFinite(value))
    throw new MalformedMessageError(`${name} is not a number: ${meta[index]}`);
  return value;
}

/** Field/value pairs of a stream entry as a map (later duplicates win). */
export function fieldMap(fields: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2)
    map.set(fields[index] as string, fields[index + 1] as string);
  return map;
}
