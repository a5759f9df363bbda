import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { promtool } from "./support/command.ts";
import { type ActiveTarget, LocalPrometheus } from "./support/local-prometheus.ts";
import { appNamespace, mountedRulesPath, paths } from "./support/paths.ts";
import {
  type FakePod,
  job,
  loadPrometheusConfig,
  type PrometheusConfig,
  runnableComposeConfig,
  runnableKubernetesConfig,
} from "./support/prometheus-config.ts";

const scratch = mkdtempSync(join(tmpdir(), "rsd-prom-config-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeConfig(name: string, config: PrometheusConfig): string {
  const file = join(scratch, name);
  writeFileSync(file, stringify(config));
  return file;
}

/** Pods as the cluster would show them: the annotated services, the redis pod with its exporter sidecar, and pods that must not be scraped. */
const pods: FakePod[] = [
  {
    name: "ingress-5f7c9d-abcde",
    namespace: appNamespace,
    ip: "10.1.0.5",
    labels: { "app.kubernetes.io/name": "ingress", app: "legacy-name" },
    annotations: {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "3000",
      "prometheus.io/path": "/metrics",
    },
    ports: [{ container: "ingress", port: 3000, name: "http" }],
  },
  {
    name: "proxy-6b8d7f-fghij",
    namespace: appNamespace,
    ip: "10.1.0.6",
    labels: { app: "proxy" },
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "3001" },
    ports: [{ container: "proxy", port: 3001, name: "http-metrics" }],
  },
  {
    name: "redis-0",
    namespace: appNamespace,
    ip: "10.1.0.7",
    labels: { "app.kubernetes.io/name": "redis" },
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "9121" },
    ports: [
      { container: "redis", port: 6379, name: "redis" },
      { container: "redis-exporter", port: 9121, name: "http-metrics" },
    ],
  },
  {
    name: "proxy-ipv6",
    namespace: appNamespace,
    ip: "fd00::9",
    labels: { app: "proxy" },
    annotations: {
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "3001",
      "prometheus.io/path": "/stats",
    },
    ports: [{ container: "proxy", port: 3001 }],
  },
  { name: "unannotated", namespace: appNamespace, ip: "10.1.0.8", ports: [{ container: "x", port: 8080 }] },
  {
    name: "opted-out",
    namespace: appNamespace,
    ip: "10.1.0.9",
    annotations: { "prometheus.io/scrape": "false", "prometheus.io/port": "3000" },
    ports: [{ container: "x", port: 3000 }],
  },
  {
    name: "ingress-pending",
    namespace: appNamespace,
    ip: "10.1.0.10",
    phase: "Pending",
    annotations: { "prometheus.io/scrape": "true", "prometheus.io/port": "3000" },
    ports: [{ container: "ingress", port: 3000 }],
  },
];

describe("the Kubernetes Prometheus config", () => {
  let config: PrometheusConfig;
  beforeAll(async () => {
    config = await loadPrometheusConfig(paths.prometheusK8s);
  });

  test("passes promtool check config once Kubernetes discovery is swapped for stand-ins", async () => {
    const { config: runnable, dir } = runnableKubernetesConfig(config, pods);
    try {
      const result = await promtool("check", "config", writeConfig("k8s.yml", runnable));
      expect(result.output).toContain("SUCCESS");
      expect(result.code).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("promtool rejects a broken config (the check above can fail)", async () => {
    const broken = structuredClone(config);
    job(broken, "redis-stream-demo-pods").relabel_configs?.push({ action: "keep", regex: "([" });
    const { config: runnable, dir } = runnableKubernetesConfig(broken, pods);
    try {
      const result = await promtool("check", "config", writeConfig("broken.yml", runnable));
      expect(result.code).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("loads the alert rules from where the ConfigMap is mounted", () => {
    expect(config.rule_files).toEqual([mountedRulesPath]);
  });

  test("discovers pods in the application namespace only, keeping those annotated prometheus.io/scrape", () => {
    const pods = job(config, "redis-stream-demo-pods");
    expect(pods.kubernetes_sd_configs).toEqual([{ role: "pod", namespaces: { names: [appNamespace] } }]);
    const relabel = pods.relabel_configs ?? [];
    expect(relabel[0]).toMatchObject({
      source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"],
      regex: "true",
      action: "keep",
    });
    const targets = (label: string) => relabel.filter((rule) => rule.target_label === label);
    expect(targets("__metrics_path__")[0]?.source_labels).toEqual([
      "__meta_kubernetes_pod_annotation_prometheus_io_path",
    ]);
    for (const rule of targets("__address__")) {
      expect(rule.source_labels).toEqual([
        "__meta_kubernetes_pod_ip",
        "__meta_kubernetes_pod_annotation_prometheus_io_port",
      ]);
    }
    expect(targets("pod")[0]?.source_labels).toEqual(["__meta_kubernetes_pod_name"]);
    expect(targets("namespace")[0]?.source_labels).toEqual(["__meta_kubernetes_namespace"]);
    expect(targets("app").length).toBeGreaterThan(0);
  });

  test("scrapes container CPU and memory from cAdvisor through the API server with the service account", () => {
    const cadvisor = job(config, "kubernetes-cadvisor");
    expect(cadvisor.kubernetes_sd_configs).toEqual([{ role: "node" }]);
    expect(cadvisor.scheme).toBe("https");
    expect(cadvisor.tls_config).toEqual({ ca_file: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" });
    expect(cadvisor.authorization).toEqual({
      credentials_file: "/var/run/secrets/kubernetes.io/serviceaccount/token",
    });
    const keep = (cadvisor.metric_relabel_configs ?? []).filter((rule) => rule.action === "keep");
    expect(keep).toContainEqual(
      expect.objectContaining({
        source_labels: ["__name__"],
        regex: "container_cpu_usage_seconds_total|container_memory_working_set_bytes",
      }),
    );
    expect(keep).toContainEqual(
      expect.objectContaining({ source_labels: ["namespace"], regex: appNamespace }),
    );
  });

  describe("relabelling, applied by a real Prometheus to pods as Kubernetes discovery presents them", () => {
    let prometheus: LocalPrometheus;
    let dir: string;
    let targets: ActiveTarget[];
    beforeAll(async () => {
      const runnable = runnableKubernetesConfig(config, pods);
      dir = runnable.dir;
      prometheus = await LocalPrometheus.start(runnable.config);
      // Discovery updates reach the scrape manager in batches (every ~5 s): wait for all four.
      targets = await prometheus.waitForTargets(
        "the annotated pods to become targets",
        (active) => active.filter((t) => t.scrapePool === "redis-stream-demo-pods").length >= 4,
      );
    }, 45_000);
    afterAll(async () => {
      await prometheus?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const podTarget = (pod: string) => targets.filter((t) => t.labels.pod === pod);

    test("only annotated, running pods are scraped, each pod once", () => {
      const scraped = targets
        .filter((t) => t.scrapePool === "redis-stream-demo-pods")
        .map((t) => t.labels.pod);
      expect(scraped.sort()).toEqual(
        ["ingress-5f7c9d-abcde", "proxy-6b8d7f-fghij", "proxy-ipv6", "redis-0"].sort(),
      );
    });

    test("every target gets pod, namespace and app labels from pod metadata", () => {
      expect(podTarget("ingress-5f7c9d-abcde")[0]?.labels).toMatchObject({
        pod: "ingress-5f7c9d-abcde",
        namespace: appNamespace,
        app: "ingress",
        instance: "10.1.0.5:3000",
        node: "node-1",
      });
      expect(podTarget("proxy-6b8d7f-fghij")[0]?.labels).toMatchObject({
        app: "proxy",
        namespace: appNamespace,
      });
    });

    test("the scrape URL follows the port and path annotations (IPv6 addresses bracketed)", () => {
      expect(podTarget("ingress-5f7c9d-abcde")[0]?.scrapeUrl).toBe("http://10.1.0.5:3000/metrics");
      expect(podTarget("proxy-6b8d7f-fghij")[0]?.scrapeUrl).toBe("http://10.1.0.6:3001/metrics");
      expect(podTarget("proxy-ipv6")[0]?.scrapeUrl).toBe("http://[fd00::9]:3001/stats");
    });

    test("the redis pod is scraped once, at its redis_exporter sidecar (port 9121)", () => {
      const redis = podTarget("redis-0");
      expect(redis.map((t) => t.scrapeUrl)).toEqual(["http://10.1.0.7:9121/metrics"]);
      expect(redis[0]?.labels.app).toBe("redis");
    });

    test("cAdvisor is scraped per node through the API server's node proxy", () => {
      const cadvisor = targets.filter((t) => t.scrapePool === "kubernetes-cadvisor");
      expect(cadvisor.map((t) => t.scrapeUrl)).toEqual([
        "https://kubernetes.default.svc:443/api/v1/nodes/node-1/proxy/metrics/cadvisor",
      ]);
      expect(cadvisor[0]?.labels.node).toBe("node-1");
    });
  });
});

describe("the Docker Compose Prometheus config", () => {
  let config: PrometheusConfig;
  beforeAll(async () => {
    config = await loadPrometheusConfig(paths.prometheusCompose);
  });

  test("passes promtool check config", async () => {
    const result = await promtool(
      "check",
      "config",
      writeConfig("compose.yml", runnableComposeConfig(config)),
    );
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  test("loads the same alert rules from the same mount path", () => {
    expect(config.rule_files).toEqual([mountedRulesPath]);
  });

  test("finds every proxy replica through DNS (type A on the service name)", () => {
    const proxy = job(config, "proxy");
    expect(proxy.dns_sd_configs).toEqual([
      expect.objectContaining({ names: ["proxy"], type: "A", port: 3001 }),
    ]);
    expect(proxy.relabel_configs).toContainEqual(
      expect.objectContaining({ source_labels: ["__address__"], target_label: "pod" }),
    );
    expect(proxy.relabel_configs).toContainEqual(
      expect.objectContaining({ target_label: "app", replacement: "proxy" }),
    );
  });

  describe("labels, applied by a real Prometheus", () => {
    let prometheus: LocalPrometheus;
    let targets: ActiveTarget[];
    beforeAll(async () => {
      prometheus = await LocalPrometheus.start(runnableComposeConfig(config));
      targets = await prometheus.waitForTargets(
        "the static targets",
        (active) =>
          active.some((t) => t.scrapePool === "ingress") &&
          active.some((t) => t.scrapePool === "redis-exporter"),
      );
    }, 45_000);
    afterAll(async () => {
      await prometheus?.stop();
    });

    test("the ingress and redis_exporter targets carry pod (from the instance) and app labels", () => {
      const labels = (pool: string) => targets.find((t) => t.scrapePool === pool)?.labels;
      expect(labels("ingress")).toMatchObject({ instance: "ingress:3000", pod: "ingress", app: "ingress" });
      expect(labels("redis-exporter")).toMatchObject({
        instance: "redis-exporter:9121",
        pod: "redis-exporter",
        app: "redis",
      });
    });
  });
});
