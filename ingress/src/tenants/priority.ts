import { defaultUrgency } from "@rsd/shared";

/** Longer than any sensible Priority header: not parsed at all (the default applies). */
const maxHeaderLength = 256;

/**
 * The urgency (`u`, 0 = most urgent … 7) of an RFC 9218 `Priority` header, a Structured Fields
 * dictionary such as `u=1, i`. As the RFC asks, unknown members (`i`, extensions) and their
 * parameters are ignored, and so is a `u` that is not an integer from 0 to 7; a header that is
 * not a dictionary at all gives the default, 3. The last `u` wins (dictionary semantics).
 * Never throws: a client's priority is a hint, not something to refuse a request over.
 */
export function urgencyOf(header: string | null): number {
  if (header === null || header.length > maxHeaderLength) return defaultUrgency;
  let urgency = defaultUrgency;
  for (const member of header.split(",")) {
    const item = member.trim();
    // The member's own value, without its parameters (`u=2;x=1`): parameters of `u` mean nothing.
    const semicolon = item.indexOf(";");
    const bare = semicolon < 0 ? item : item.slice(0, semicolon);
    const equals = bare.indexOf("=");
    const key = equals < 0 ? bare : bare.slice(0, equals);
    if (!/^[a-z*][a-z0-9_.*-]*$/.test(key)) return defaultUrgency; // not a dictionary
    if (key !== "u" || equals < 0) continue;
    const value = bare.slice(equals + 1);
    if (/^[0-7]$/.test(value)) urgency = Number(value);
  }
  return urgency;
}
