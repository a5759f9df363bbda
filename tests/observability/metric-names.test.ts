import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Stack } from "../helpers/stack.ts";
import { contractSeries, externalMetrics } from "./support/contract.ts";
import { allTargets, loadAlertRules, loadDashboard } from "./support/dashboard.ts";
import { exposedLabelNames, exposedMetricNames, metricNames } from "./support/promql.ts";

// Live: an ingress and a proxy, each with a request behind it, and their real /metrics.
let stack: Stack;
let ingressMetrics: string;
let proxyMetrics: string;

beforeAll(async () => {
  stack = await Stack.start({ proxies: 1, terminals: 2, processingMs: 5 });
  const answer = await stack.request({ payload: { hello: "metrics" } });
  if (answer.status !== 200)
    throw new Error(`request failed: ${answer.status} ${JSON.stringify(answer.body)}`);
  ingressMetrics = await (await fetch(`${stack.ingress.url}/metrics`)).text();
  proxyMetrics = await (await fetch(`${stack.proxies[0]?.url}/metrics`)).text();
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

describe("metric names, against the services' live /metrics", () => {
  test("the ingress exports every series of its part of the metrics contract", () => {
    const exposed = exposedMetricNames(ingressMetrics);
    expect(contractSeries("ingress").filter((name) => !exposed.has(name))).toEqual([]);
  });

  test("the proxy exports every series of its part of the metrics contract", () => {
    const exposed = exposedMetricNames(proxyMetrics);
    expect(contractSeries("proxy").filter((name) => !exposed.has(name))).toEqual([]);
  });

  test("every metric the dashboard and the alerts query is exported by a service or an allowed exporter", async () => {
    const exposed = new Set([
      ...exposedMetricNames(ingressMetrics),
      ...exposedMetricNames(proxyMetrics),
      ...externalMetrics,
    ]);
    const dashboard = await loadDashboard();
    const queries = [
      ...allTargets(dashboard).map((t) => t.expr),
      ...(await loadAlertRules()).map((r) => r.expr),
    ];
    const missing = [...new Set(queries.flatMap(metricNames))].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  test("the services leave pod, namespace and app to Prometheus's relabelling", () => {
    // A metric label with a target label's name would be renamed exported_<name> and break every query by pod.
    const reserved = ["pod", "namespace", "app", "instance", "job", "node"];
    for (const exposition of [ingressMetrics, proxyMetrics]) {
      const labels = exposedLabelNames(exposition);
      expect(reserved.filter((name) => labels.has(name))).toEqual([]);
    }
  });
});
