/**
 * The scenarios that run only on their own (`--only fairness|protection|tracing`) each keep a
 * section of docs/benchmarks.md between two markers, `<!-- <name>:begin -->` and
 * `<!-- <name>:end -->`: a run of that scenario replaces its section, and a full run, which
 * rewrites the rest of the file, keeps every section as it was.
 */
export type SectionName = "fairness" | "protection" | "tracing";
export const sectionNames: readonly SectionName[] = ["fairness", "protection", "tracing"];

const begin = (name: SectionName) => `<!-- ${name}:begin -->`;
const end = (name: SectionName) => `<!-- ${name}:end -->`;

/** The content of `name`'s section of `markdown`, if it has one. */
export function sectionOf(markdown: string, name: SectionName): string | undefined {
  const from = markdown.indexOf(begin(name));
  const to = markdown.indexOf(end(name));
  if (from < 0 || to < from) return undefined;
  return markdown.slice(from + begin(name).length, to).trim();
}

/** `markdown` with `name`'s section replaced by `content`, or added at the end. */
export function withSection(markdown: string, name: SectionName, content: string): string {
  const block = `${begin(name)}\n${content.trim()}\n${end(name)}\n`;
  const from = markdown.indexOf(begin(name));
  const to = markdown.indexOf(end(name));
  if (from < 0 || to < from) return `${markdown.trimEnd()}\n\n${block}`;
  return markdown.slice(0, from) + block + markdown.slice(to + end(name).length).replace(/^\n/, "");
}

/** A freshly written `markdown` that keeps every section `previous` had. */
export function keepSections(markdown: string, previous: string): string {
  let kept = markdown;
  for (const name of sectionNames) {
    const content = sectionOf(previous, name);
    if (content !== undefined) kept = withSection(kept, name, content);
  }
  return kept;
}
