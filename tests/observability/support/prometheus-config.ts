import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { paths } from "./paths.ts";

export type Relabel = {
  source_labels?: string[];
  regex?: string;
  action?: string;
  target_label?: string;
  replacement?: string;
};

export type ScrapeConfig = {
  job_name: string;
  kubernetes_sd_configs?: { role: string; namespaces?: { names?: string[] } }[];
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
  file_sd_configs?: { files: string[]; refresh_interval?: string }[];
  dns_sd_configs?: { names: string[]; type?: string; port?: number }[];
  relabel_configs?: Relabel[];
  metric_relabel_configs?: Relabel[];
  tls_config?: Record<string, unknown>;
  authorization?: Record<string, unknown>;
  [key: string]: unknown;
};

export type PrometheusConfig = {
  global?: Record<string, unknown>;
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
  [key: string]: unknown;
};

export async function loadPrometheusConfig(path: string): Promise<PrometheusConfig> {
  return parse(await Bun.file(path).text()) as PrometheusConfig;
}

export function job(config: PrometheusConfig, name: string): ScrapeConfig {
  const found = config.scrape_configs.find((candidate) => candidate.job_name === name);
  if (!found) throw new Error(`no scrape job ${name} in ${config.scrape_configs.map((j) => j.job_name)}`);
  return found;
}

/** A pod as Kubernetes pod discovery presents it (`role: pod`): one target per declared container port. */
export interface FakePod {
  name: string;
  namespace: string;
  ip: string;
  phase?: string;
  node?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ports: { container: string; port: number; name?: string }[];
}

/** Kubernetes SD turns label and annotation names into label-name-safe suffixes. */
const sanitize = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_");

/**
 * file_sd target groups carrying the same `__meta_kubernetes_*` labels `kubernetes_sd_configs`
 * would produce for these pods, so a real Prometheus applies the config's relabelling to them.
 */
export function podTargetGroups(pods: FakePod[]): { targets: string[]; labels: Record<string, string> }[] {
  return pods.flatMap((pod) =>
    pod.ports.map((port) => {
      const labels: Record<string, string> = {
        __meta_kubernetes_namespace: pod.namespace,
        __meta_kubernetes_pod_name: pod.name,
        __meta_kubernetes_pod_ip: pod.ip,
        __meta_kubernetes_pod_phase: pod.phase ?? "Running",
        __meta_kubernetes_pod_ready: "true",
        __meta_kubernetes_pod_node_name: pod.node ?? "node-1",
        __meta_kubernetes_pod_container_name: port.container,
        __meta_kubernetes_pod_container_port_number: String(port.port),
        __meta_kubernetes_pod_container_port_name: port.name ?? "",
        __meta_kubernetes_pod_container_port_protocol: "TCP",
      };
      for (const [key, value] of Object.entries(pod.labels ?? {})) {
        labels[`__meta_kubernetes_pod_label_${sanitize(key)}`] = value;
        labels[`__meta_kubernetes_pod_labelpresent_${sanitize(key)}`] = "true";
      }
      for (const [key, value] of Object.entries(pod.annotations ?? {})) {
        labels[`__meta_kubernetes_pod_annotation_${sanitize(key)}`] = value;
        labels[`__meta_kubernetes_pod_annotationpresent_${sanitize(key)}`] = "true";
      }
      return { targets: [`${pod.ip}:${port.port}`], labels };
    }),
  );
}

/**
 * The Kubernetes config made runnable outside a cluster (Debian's Prometheus lacks
 * `kubernetes_sd_configs`, and there is no service account): pod discovery becomes a file_sd file
 * of fake pods (same meta labels, same relabelling), node discovery a static node, the service
 * account files temporary stand-ins, and the rule file the repository's alerts.yml.
 * Everything else, relabelling included, is kept as written.
 */
export function runnableKubernetesConfig(
  config: PrometheusConfig,
  pods: FakePod[],
  { scrapeInterval }: { scrapeInterval?: string } = {},
): { config: PrometheusConfig; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "rsd-prom-k8s-"));
  const podsFile = join(dir, "pods.json");
  const tokenFile = join(dir, "token");
  writeFileSync(podsFile, JSON.stringify(podTargetGroups(pods)));
  writeFileSync(tokenFile, "test-token\n");
  const copy = structuredClone(config);
  copy.rule_files = [paths.alerts];
  if (scrapeInterval) {
    const intervals = { scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval };
    copy.global = { ...copy.global, ...intervals, evaluation_interval: scrapeInterval };
  }
  for (const scrape of copy.scrape_configs) {
    const sd = scrape.kubernetes_sd_configs;
    if (!sd) continue;
    delete scrape.kubernetes_sd_configs;
    const role = sd[0]?.role;
    if (role === "pod") {
      scrape.file_sd_configs = [{ files: [podsFile], refresh_interval: "1s" }];
    } else if (role === "node") {
      scrape.static_configs = [
        { targets: ["node-1:10250"], labels: { __meta_kubernetes_node_name: "node-1" } },
      ];
    } else {
      throw new Error(`job ${scrape.job_name}: no stand-in for kubernetes_sd role ${role}`);
    }
    if (scrape.tls_config) scrape.tls_config = { insecure_skip_verify: true };
    if (scrape.authorization?.credentials_file) scrape.authorization = { credentials_file: tokenFile };
  }
  return { config: copy, dir };
}

/** The compose config with the rule file path pointing at the repository's alerts.yml. */
export function runnableComposeConfig(config: PrometheusConfig): PrometheusConfig {
  return { ...structuredClone(config), rule_files: [paths.alerts] };
}
