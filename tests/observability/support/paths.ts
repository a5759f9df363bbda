import { resolve } from "node:path";

/** Where the monitoring configuration lives in the repository. */
export const repoRoot = resolve(import.meta.dir, "../../..");
export const configDir = resolve(repoRoot, "kustomize/base/monitoring/config");
export const paths = {
  prometheusK8s: resolve(configDir, "prometheus.yml"),
  prometheusCompose: resolve(configDir, "prometheus.compose.yml"),
  alerts: resolve(configDir, "alerts.yml"),
  alertTests: resolve(repoRoot, "tests/observability/alerts.test.yml"),
  grafanaDatasource: resolve(configDir, "grafana/datasource.yaml"),
  grafanaDashboards: resolve(configDir, "grafana/dashboards.yaml"),
  dashboard: resolve(configDir, "grafana/dashboards/rsd-overview.json"),
  operations: resolve(repoRoot, "docs/operations.md"),
};

/** The path both Prometheus configs load the rules from (where compose and Kubernetes mount alerts.yml). */
export const mountedRulesPath = "/etc/prometheus/rules/alerts.yml";

/** The application namespace Prometheus discovers pods in. */
export const appNamespace = "redis-stream-demo";
