const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "bool",
  "and",
  "or",
  "unless",
  "inf",
  "nan",
]);

/**
 * The metric names a PromQL expression selects. A small lexer, enough for our expressions:
 * strings, label matchers, ranges and grouping clauses are removed, and what is left is a metric
 * name unless it is a function (followed by `(`), a keyword, or part of a number or duration.
 */
export function metricNames(expr: string): string[] {
  let text = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').replace(/'(?:[^'\\]|\\.)*'/g, "''");
  text = text.replace(/\{[^}]*\}/g, " ").replace(/\[[^\]]*\]/g, " ");
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, " ");
  const names = new Set<string>();
  for (const match of text.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const index = match.index ?? 0;
    const before = text[index - 1] ?? "";
    if (/[0-9.$]/.test(before)) continue;
    if (/^\s*\(/.test(text.slice(index + match[0].length))) continue;
    if (keywords.has(match[0].toLowerCase())) continue;
    names.add(match[0]);
  }
  return [...names];
}

/** Grafana's built-in interval variables replaced by fixed durations, so Prometheus can run the query. */
export function withGrafanaVariables(expr: string, { rateInterval = "1m", range = "1h" } = {}): string {
  return expr.replaceAll("$__rate_interval", rateInterval).replaceAll("$__range", range);
}

/**
 * Metric names a Prometheus text exposition offers: every sample name, plus the series names that
 * `# TYPE` promises even before a first observation (a labelled counter has no sample until its
 * first increment; a histogram exposes `_bucket`, `_sum` and `_count`).
 */
export function exposedMetricNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const type = line.match(/^# TYPE (\S+) (\S+)/);
    if (type) {
      const [, name = "", kind] = type;
      names.add(name);
      if (kind === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
      if (kind === "summary") for (const suffix of ["_sum", "_count"]) names.add(name + suffix);
      continue;
    }
    const sample = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/);
    if (sample?.[1]) names.add(sample[1]);
  }
  return names;
}

/** Label names used on any sample of an exposition. */
export function exposedLabelNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const line of exposition.split("\n")) {
    const labels = line.match(/^[a-zA-Z_:][a-zA-Z0-9_:]*\{(.*)\}\s/);
    if (!labels?.[1]) continue;
    for (const label of labels[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"/g)) {
      if (label[1]) names.add(label[1]);
    }
  }
  return names;
}
