import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { get, type K8sObject, KUSTOMIZE, OVERLAYS, render } from "./kustomize.ts";
import { container, podSpec } from "./pods.ts";
import { MONITORING } from "./topology.ts";

describe("monitoring consumes the observability files at the paths they name", () => {
  const config = (file: string) => readFileSync(join(KUSTOMIZE, "base/monitoring/config", file), "utf8");

  /** Where a file of a ConfigMap ends up inside a container: mountPath/key. */
  function mountedFiles(objects: K8sObject[], deployment: K8sObject, name: string): Map<string, string> {
    const files = new Map<string, string>();
    const c = container(deployment, name);
    for (const mount of c.volumeMounts) {
      const volume = podSpec(deployment).volumes.find((v: { name: string }) => v.name === mount.name);
      if (!volume?.configMap) continue;
      const configMap = get(objects, "ConfigMap", volume.configMap.name, MONITORING);
      for (const [key, value] of Object.entries(configMap.data as Record<string, string>)) {
        files.set(`${mount.mountPath}/${key}`, value);
      }
    }
    return files;
  }

  for (const overlay of OVERLAYS) {
    test(`${overlay}: Prometheus gets prometheus.yml and every rule file it names`, () => {
      const objects = render(overlay);
      const deployment = get(objects, "Deployment", "prometheus", MONITORING);
      const files = mountedFiles(objects, deployment, "prometheus");
      const args: string[] = container(deployment, "prometheus").args;
      const configPath = args.find((a) => a.startsWith("--config.file="))!.split("=")[1]!;
      expect(files.get(configPath)).toBe(config("prometheus.yml"));
      const prometheusYml = parse(config("prometheus.yml"));
      for (const rules of prometheusYml.rule_files ?? []) {
        const path = rules.startsWith("/") ? rules : `${configPath.replace(/\/[^/]+$/, "")}/${rules}`;
        expect({ rules, mounted: files.has(path) }).toEqual({ rules, mounted: true });
      }
      expect([...files.values()]).toContain(config("alerts.yml"));
    });

    test(`${overlay}: Grafana gets its datasource, the dashboard provider and the folder the provider reads`, () => {
      const objects = render(overlay);
      const deployment = get(objects, "Deployment", "grafana", MONITORING);
      const files = mountedFiles(objects, deployment, "grafana");
      expect(files.get("/etc/grafana/provisioning/datasources/datasource.yaml")).toBe(
        config("grafana/datasource.yaml"),
      );
      expect(files.get("/etc/grafana/provisioning/dashboards/dashboards.yaml")).toBe(
        config("grafana/dashboards.yaml"),
      );
      const provider = parse(config("grafana/dashboards.yaml"));
      for (const { options } of provider.providers) {
        const path = String(options.path).replace(/\/$/, "");
        expect(files.get(`${path}/rsd-overview.json`)).toBe(config("grafana/dashboards/rsd-overview.json"));
      }
      // The datasource points at the Prometheus Service (same name and port as in Compose).
      const datasource = parse(config("grafana/datasource.yaml")).datasources.find(
        (d: { type: string }) => d.type === "prometheus",
      );
      const url = new URL(datasource.url);
      const service = get(objects, "Service", url.hostname.split(".")[0]!, MONITORING);
      expect(service.spec.ports.map((p: { port: number }) => String(p.port))).toContain(url.port);
    });
  }
});
