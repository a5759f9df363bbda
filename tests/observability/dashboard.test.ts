import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { promtool } from "./support/command.ts";
import { contractSeries, externalMetrics, processMetrics } from "./support/contract.ts";
import {
  allPanels,
  allTargets,
  type DashboardJson,
  loadAlertRules,
  loadDashboard,
  panelExpr,
} from "./support/dashboard.ts";
import { typeCheckDashboard } from "./support/grafana-typecheck.ts";
import { paths } from "./support/paths.ts";
import { metricNames, withGrafanaVariables } from "./support/promql.ts";

/** The datasource reference every panel and query uses: Grafana's `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const datasourceVariable = "${datasource}";

let dashboard: DashboardJson;
beforeAll(async () => {
  dashboard = await loadDashboard();
});
const scratch = mkdtempSync(join(tmpdir(), "rsd-dashboard-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const exprs = () => allTargets(dashboard).map((target) => target.expr);

describe("the overview dashboard", () => {
  test("type-checks as @grafana/schema's Dashboard", async () => {
    const result = await typeCheckDashboard(dashboard);
    expect(result.output).toBe("");
    expect(result.code).toBe(0);
  }, 60_000);

  test("the type check rejects a misspelt property and a wrong type", async () => {
    const broken = structuredClone(dashboard) as DashboardJson & Record<string, unknown>;
    broken.refesh = "30s";
    const misspelt = await typeCheckDashboard(broken);
    expect(misspelt.output).toContain("'\"refesh\"' does not exist in type 'Dashboard'");
    const wrongType = structuredClone(dashboard);
    (wrongType.panels[1]?.gridPos as unknown as Record<string, unknown>).h = "4";
    expect((await typeCheckDashboard(wrongType)).code).not.toBe(0);
  }, 60_000);

  test("has a stable uid and a title", () => {
    expect(dashboard.uid).toBe("rsd-overview");
    expect(dashboard.title).toBeTruthy();
  });

  test("queries through a templated datasource variable, defaulting to the provisioned datasource", async () => {
    const provisioned = parse(await Bun.file(paths.grafanaDatasource).text()) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    const prometheus = provisioned.datasources.find((ds) => ds.type === "prometheus");
    expect(prometheus?.uid).toBe("prometheus");
    const variable = dashboard.templating.list.find((v) => v.name === "datasource");
    expect(variable).toMatchObject({
      type: "datasource",
      query: "prometheus",
      current: { value: prometheus?.uid },
    });
    for (const panel of allPanels(dashboard).filter((p) => p.type !== "row")) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({
        panel: panel.title,
        uid: datasourceVariable,
      });
    }
    for (const target of allTargets(dashboard)) {
      expect(target.datasource).toEqual({ type: "prometheus", uid: datasourceVariable });
    }
  });

  test("is provisioned from the folder the dashboard JSON is mounted in", async () => {
    const provider = parse(await Bun.file(paths.grafanaDashboards).text()) as {
      providers: { type: string; options: { path: string } }[];
    };
    expect(provider.providers).toEqual([
      expect.objectContaining({
        type: "file",
        options: expect.objectContaining({ path: "/var/lib/grafana/dashboards" }),
      }),
    ]);
  });

  test("names no pod or instance: pods appear through `by (pod)` and legends", () => {
    for (const expr of exprs()) {
      expect({ expr, pinned: /\b(pod|instance)\s*=~?\s*"[^"]/.test(expr) }).toEqual({ expr, pinned: false });
    }
    expect(panelExpr(dashboard, "Active terminals per pod")).toBe("sum by (pod) (rsd_proxy_terminals_busy)");
  });

  test("combines the stream gauges every pod exports per shard: max by shard, then the sum over shards", () => {
    const streamExprs = exprs().filter((e) => e.includes("rsd_stream_"));
    for (const expr of streamExprs) {
      expect(expr).toMatch(
        /^(sum\(max by \(shard\) \(rsd_stream_(length|lag|pending)\)\)|max by \(shard\) \(rsd_stream_lag\))$/,
      );
    }
    expect(panelExpr(dashboard, "Queue lag")).toBe("sum(max by (shard) (rsd_stream_lag))");
    expect(panelExpr(dashboard, "Queue lag per shard")).toBe("max by (shard) (rsd_stream_lag)");
    const perShard = allPanels(dashboard).find((p) => p.title === "Queue lag per shard");
    expect(String(perShard?.targets?.[0]?.legendFormat)).toContain("{{shard}}");
  });

  test("shows everything the issue lists", () => {
    const all = exprs().join("\n");
    const panels = (title: string) => allTargets(dashboard).filter((t) => t.panel === title);
    expect(panels("Request rate by status")[0]?.expr).toContain(
      "sum by (status) (rate(rsd_ingress_requests_total",
    );
    expect(
      panels("Latency p50 / p95 / p99").map((t) => t.expr.match(/histogram_quantile\(([\d.]+)/)?.[1]),
    ).toEqual(["0.5", "0.95", "0.99"]);
    expect(panels("In-flight requests")[0]?.expr).toContain("rsd_ingress_inflight_requests");
    expect(
      panels("Shed, timeouts, dead letters")
        .map((t) => t.expr)
        .join("\n"),
    ).toMatch(/rsd_ingress_shed_total[\s\S]*status="504"[\s\S]*outcome="dead"/);
    expect(panelExpr(dashboard, "Fleet utilisation")).toBe(
      "sum(rsd_proxy_terminals_busy) / sum(rsd_proxy_terminals)",
    );
    for (const name of [
      "rsd_stream_length",
      "rsd_stream_lag",
      "rsd_stream_pending",
      "redis_memory_used_bytes",
      "container_cpu_usage_seconds_total",
      "container_memory_working_set_bytes",
    ]) {
      expect(all).toContain(name);
    }
  });

  test("shows the backend protections: limit per pod, breaker state, shed reasons, pauses", () => {
    expect(panelExpr(dashboard, "Concurrency limit per pod")).toBe(
      "sum by (pod) (rsd_proxy_concurrency_limit)",
    );
    expect(panelExpr(dashboard, "Circuit breaker state")).toBe("max(rsd_breaker_state)");
    expect(panelExpr(dashboard, "Shed by reason")).toContain("sum by (reason) (rate(rsd_ingress_shed_total");
    expect(panelExpr(dashboard, "Backend pauses")).toContain("rsd_proxy_backend_pauses_total");
  });

  test("lays its panels out on the grid without overlaps", () => {
    const panels = allPanels(dashboard);
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    const cells = new Set<string>();
    for (const { title, gridPos } of panels) {
      expect(gridPos.x + gridPos.w).toBeLessThanOrEqual(24);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x++) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y++) {
          expect({ title, overlaps: cells.has(`${x},${y}`) }).toEqual({ title, overlaps: false });
          cells.add(`${x},${y}`);
        }
      }
    }
  });

  test("every query is valid PromQL (promtool parses it as a recording rule)", async () => {
    const rules = allTargets(dashboard).map((target, index) => ({
      record: `dashboard:query_${index}`,
      expr: withGrafanaVariables(target.expr),
    }));
    const file = join(scratch, "dashboard-queries.yml");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules }] }));
    const result = await promtool("check", "rules", file);
    expect(result.output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(result.code).toBe(0);
  });
});

describe("metric names in the dashboard and the alerts", () => {
  test("the PromQL name extraction finds names and skips functions, labels, keywords and durations", () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(a_bucket{status=~"5..", x="b"}[5m]))) / on (pod) group_left b offset 15m or c unless d > 0.9',
      ).sort(),
    ).toEqual(["a_bucket", "b", "c", "d"]);
  });

  test("are all in the metrics contract, prom-client's defaults or the exporters' allow-list", async () => {
    const known = new Set([
      ...contractSeries("ingress"),
      ...contractSeries("proxy"),
      ...processMetrics,
      ...externalMetrics,
    ]);
    const used = [...exprs(), ...(await loadAlertRules()).map((rule) => rule.expr)].flatMap(metricNames);
    expect(used.length).toBeGreaterThan(20);
    expect([...new Set(used)].filter((name) => !known.has(name))).toEqual([]);
  });
});
