import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { allTargets, type DashboardJson, loadDashboard, panelExpr } from "./support/dashboard.ts";
import { LocalPrometheus, type Sample } from "./support/local-prometheus.ts";
import { appNamespace, paths } from "./support/paths.ts";
import { type FakePod, loadPrometheusConfig, runnableKubernetesConfig } from "./support/prometheus-config.ts";
import { withGrafanaVariables } from "./support/promql.ts";

// End to end: redis, one ingress and two proxies (5 terminals each), a real Prometheus running the
// Kubernetes config (pods presented as Kubernetes discovery would, scraped every second), steady
// traffic above capacity, and the dashboard's own expressions asked through the HTTP API.
const terminals = 5;
const workers = 20;

let stack: Stack;
let prometheus: LocalPrometheus;
let configDir: string | undefined;
let dashboard: DashboardJson;
let stopLoad = false;
let load: Promise<void>[] = [];
const statuses = new Map<number, number>();
let sent = 0;

/** A dashboard expression ready for the API: Grafana's interval variables as short fixed windows. */
const query = (expr: string): Promise<Sample[]> =>
  prometheus.query(withGrafanaVariables(expr, { rateInterval: "5s", range: "1m" }));

beforeAll(async () => {
  dashboard = await loadDashboard();
  stack = await Stack.start({ proxies: 2, terminals, processingMs: 50 });
  const ingressPod: FakePod = {
    name: "ingress-e2e",
    namespace: appNamespace,
    ip: "127.0.0.1",
    labels: { "app.kubernetes.io/name": "ingress" },
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(stack.ingress.port) },
    ports: [{ container: "ingress", port: stack.ingress.port, name: "http" }],
  };
  const proxyPods: FakePod[] = stack.proxies.map((proxy, index) => ({
    name: `proxy-${index + 1}`,
    namespace: appNamespace,
    ip: "127.0.0.1",
    labels: { "app.kubernetes.io/name": "proxy" },
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": String(proxy.port) },
    ports: [{ container: "proxy", port: proxy.port, name: "http-metrics" }],
  }));
  const runnable = runnableKubernetesConfig(
    await loadPrometheusConfig(paths.prometheusK8s),
    [ingressPod, ...proxyPods],
    {
      scrapeInterval: "1s",
    },
  );
  configDir = runnable.dir;
  // Only the application pods: there is no cluster to scrape cAdvisor from, and :9090 is not ours.
  runnable.config.scrape_configs = runnable.config.scrape_configs.filter(
    (job) => job.job_name === "redis-stream-demo-pods",
  );
  prometheus = await LocalPrometheus.start(runnable.config);

  // Twice as many clients as terminals, so the terminals stay busy and some requests queue.
  load = Array.from({ length: workers }, async (_, worker) => {
    while (!stopLoad) {
      sent++;
      const answer = await stack.request({ payload: { worker, n: sent } }).catch(() => undefined);
      if (answer) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
    }
  });
  // Rates need a few samples: wait for three successful scrapes of each target.
  await waitFor(
    "Prometheus to scrape the ingress and both proxies three times",
    async () => {
      const scraped = await prometheus.query('sum_over_time(up{job="redis-stream-demo-pods"}[10s]) >= 3');
      return scraped.length === 3;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
}, 90_000);

afterAll(async () => {
  stopLoad = true;
  await Promise.all(load);
  await prometheus?.stop();
  await stack?.stop();
  if (configDir) rmSync(configDir, { recursive: true, force: true });
}, 60_000);

describe("the dashboard's main expressions against a real Prometheus scraping a loaded stack", () => {
  test("the traffic is being answered", async () => {
    await waitFor("answered requests", () => (statuses.get(200) ?? 0) > 50, { timeoutMs: 20_000 });
    expect([...statuses.keys()]).toEqual([200]);
  });

  test("request rate is positive, and split by status and pod", async () => {
    const rate = await waitFor(
      "a positive request rate",
      async () => {
        const [sample] = await query(panelExpr(dashboard, "Request rate"));
        return sample && sample.value > 0 ? sample : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // Capacity is 2 pods x 5 terminals at 50 ms: at most ~200 requests per second.
    expect(rate.value).toBeLessThan(400);
    const byStatus = await query(panelExpr(dashboard, "Request rate by status"));
    expect(byStatus.map((s) => s.metric.status)).toContain("200");
    const byPod = await query("sum by (pod, app, namespace) (rate(rsd_ingress_requests_total[5s]))");
    expect(byPod.map((s) => s.metric)).toEqual([
      { pod: "ingress-e2e", app: "ingress", namespace: appNamespace },
    ]);
  });

  test("p99 latency is finite and at least the processing time", async () => {
    const p99 = await waitFor(
      "a p99 latency",
      async () => {
        const [sample] = await query(panelExpr(dashboard, "Latency p50 / p95 / p99", "C"));
        return sample && Number.isFinite(sample.value) && sample.value > 0 ? sample : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(p99.value).toBeGreaterThan(0.025);
    expect(p99.value).toBeLessThan(10);
    const [p50] = await query(panelExpr(dashboard, "Latency p50 / p95 / p99", "A"));
    expect(p50?.value).toBeLessThanOrEqual(p99.value);
  });

  test("busy terminals are reported per proxy pod, never above the configured terminals", async () => {
    const busy = await waitFor(
      "busy terminals on both proxy pods",
      async () => {
        const samples = await query(panelExpr(dashboard, "Active terminals per pod", "A"));
        return samples.length === 2 && samples.some((s) => s.value > 0) ? samples : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(busy.map((s) => s.metric.pod).sort()).toEqual(["proxy-1", "proxy-2"]);
    for (const sample of busy) expect(sample.value).toBeLessThanOrEqual(terminals);
    const [perPod] = await query(panelExpr(dashboard, "Active terminals per pod", "B"));
    expect(perPod?.value).toBe(terminals);
    const peak = await query("max_over_time(sum(rsd_proxy_terminals_busy)[1m:1s])");
    expect(peak[0]?.value).toBeLessThanOrEqual(2 * terminals);
  });

  test("fleet utilisation is a fraction between 0 and 1, above 0 under this load", async () => {
    const utilisation = await waitFor(
      "a positive fleet utilisation",
      async () => {
        const [sample] = await query(panelExpr(dashboard, "Fleet utilisation"));
        return sample && sample.value > 0 ? sample : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(utilisation.value).toBeLessThanOrEqual(1);
  });

  test("stream length, lag and pending are reported and plausible", async () => {
    const panel = "Stream length, lag, pending";
    const [lag] = await waitFor(
      "a stream lag sample",
      async () => {
        const samples = await query(panelExpr(dashboard, panel, "B"));
        return samples.length === 1 ? samples : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(lag?.value).toBeGreaterThanOrEqual(0);
    expect(lag?.value).toBeLessThanOrEqual(workers);
    const [pending] = await query(panelExpr(dashboard, panel, "C"));
    expect(pending?.value).toBeGreaterThanOrEqual(0);
    expect(pending?.value).toBeLessThanOrEqual(sent);
    const [length] = await query(panelExpr(dashboard, panel, "A"));
    expect(length?.value).toBeGreaterThanOrEqual(0);
  });

  test("every dashboard query runs; those about the services return data", async () => {
    // Redis memory and cAdvisor need exporters this test does not run; Compose-style process CPU does answer.
    // The per-tenant row needs tenants in use and TENANT_LANES (tests/tenants covers those series).
    const needsExporter = /redis_memory|container_|rsd_tenant_/;
    const empty: string[] = [];
    for (const target of allTargets(dashboard)) {
      const samples = await query(target.expr);
      if (
        samples.length === 0 &&
        !needsExporter.test(target.expr) &&
        !/outcome="(dead|expired)"|shed|504|5\.\./.test(target.expr)
      ) {
        empty.push(`${target.panel} ${target.refId}`);
      }
    }
    expect(empty).toEqual([]);
    // Without cAdvisor, the CPU and memory panels fall back to the services' own process metrics.
    const cpu = await query(panelExpr(dashboard, "Pod CPU (cores)"));
    expect(cpu.map((s) => s.metric.pod).sort()).toEqual(["ingress-e2e", "proxy-1", "proxy-2"]);
  });

  test("Prometheus loads and evaluates every alert rule without error", async () => {
    type Rules = {
      data: { groups: { rules: { type: string; name: string; health: string; lastError?: string }[] }[] };
    };
    const rules = await waitFor(
      "every alert rule evaluated",
      async () => {
        const body = (await (await fetch(`${prometheus.url}/api/v1/rules?type=alert`)).json()) as Rules;
        const all = body.data.groups.flatMap((group) => group.rules);
        return all.length > 0 && all.every((rule) => rule.health !== "unknown") ? all : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(rules.map((rule) => [rule.name, rule.health, rule.lastError ?? ""])).toEqual(
      rules.map((rule) => [rule.name, "ok", ""]),
    );
    expect(rules.length).toBe(7);
  });
});
