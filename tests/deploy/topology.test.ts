import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { SEED, type Service } from "./contract.ts";
import {
  find,
  generated,
  get,
  type K8sObject,
  KUSTOMIZE,
  OVERLAYS,
  REDIS_PASSWORD_KEYS,
  render,
  VARIANTS,
  workloads,
} from "./kustomize.ts";
import { container, containers, effectiveEnv, podSpec } from "./pods.ts";

const APP = SEED.appNamespace;
const MONITORING = SEED.monitoringNamespace;

const replicas = (objects: K8sObject[], service: Service) => ({
  replicas: get(objects, "Deployment", service, APP).spec.replicas,
  min: find(objects, "HorizontalPodAutoscaler", service, APP)?.spec.minReplicas,
  max: find(objects, "HorizontalPodAutoscaler", service, APP)?.spec.maxReplicas,
});

/** Kubernetes memory quantities to bytes (the subset these manifests use). */
function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|k|M|G|kb|mb|gb)?$/i.exec(quantity);
  if (!match) throw new Error(`unparsed quantity ${quantity}`);
  const unit = (match[2] ?? "").toLowerCase();
  const factor = {
    "": 1,
    ki: 1024,
    mi: 1024 ** 2,
    gi: 1024 ** 3,
    k: 1e3,
    m: 1e6,
    g: 1e9,
    kb: 1024,
    mb: 1024 ** 2,
    gb: 1024 ** 3,
  }[unit]!;
  return Number(match[1]) * factor;
}

describe("replica counts and autoscaling bounds", () => {
  test("prod has the seed's numbers: ingress 3 -> 10, proxy 15 -> 30 with 5 terminals, one Redis", () => {
    const objects = render("prod");
    expect(replicas(objects, "ingress")).toEqual({ replicas: 3, min: 3, max: 10 });
    expect(replicas(objects, "proxy")).toEqual({ replicas: 15, min: 15, max: 30 });
    const proxy = container(get(objects, "Deployment", "proxy", APP), "proxy");
    expect(effectiveEnv(objects, APP, proxy).get("TERMINALS")?.value).toBe(String(SEED.proxy.terminals));
    expect(get(objects, "StatefulSet", "redis", APP).spec.replicas).toBe(SEED.redis.replicas);
  });

  test("prod autoscales the ingress on CPU (autoscaling/v2)", () => {
    const hpa = get(render("prod"), "HorizontalPodAutoscaler", "ingress", APP);
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec.metrics[0].resource.name).toBe("cpu");
  });

  test("local runs 1 ingress and 2 proxies with autoscaling pinned (no HPA churn)", () => {
    const objects = render("local");
    expect(replicas(objects, "ingress")).toEqual({ replicas: 1, min: 1, max: 1 });
    expect(replicas(objects, "proxy")).toEqual({ replicas: 2, min: 2, max: 2 });
  });

  test("staging sits between local and prod", () => {
    const objects = render("staging");
    for (const service of ["ingress", "proxy"] as const) {
      const { replicas: count, min, max } = replicas(objects, service);
      expect(count).toBeGreaterThan(replicas(render("local"), service).replicas);
      expect(max!).toBeLessThan(replicas(render("prod"), service).max!);
      expect(min!).toBeLessThanOrEqual(count);
    }
  });
});

describe("images", () => {
  test("local uses locally loaded images (IfNotPresent, tag dev)", () => {
    for (const w of workloads(render("local"))) {
      for (const c of containers(w)) expect(c.imagePullPolicy).toBe("IfNotPresent");
    }
    for (const service of ["ingress", "proxy"]) {
      expect(container(get(render("local"), "Deployment", service, APP), service).image).toBe(
        `redis-stream-demo/${service}:dev`,
      );
    }
  });

  test("staging and prod pin every image to an explicit version, never latest", () => {
    for (const overlay of ["staging", "prod"] as const) {
      for (const w of workloads(render(overlay))) {
        for (const c of containers(w)) {
          expect({
            image: c.image,
            pinned: /:[\w.-]+$/.test(c.image) && !c.image.endsWith(":latest"),
          }).toEqual({
            image: c.image,
            pinned: true,
          });
        }
      }
    }
  });
});

for (const variant of VARIANTS) {
  describe(`overlays/${variant}: every pod is hardened and bounded`, () => {
    test("non-root, RuntimeDefault seccomp, read-only root, no privilege escalation, all capabilities dropped", () => {
      for (const w of workloads(render(variant))) {
        const pod = podSpec(w).securityContext ?? {};
        expect({
          workload: w.metadata.name,
          runAsNonRoot: pod.runAsNonRoot,
          seccomp: pod.seccompProfile?.type,
        }).toEqual({
          workload: w.metadata.name,
          runAsNonRoot: true,
          seccomp: "RuntimeDefault",
        });
        for (const c of containers(w)) {
          const s = c.securityContext ?? {};
          expect({
            container: `${w.metadata.name}/${c.name}`,
            allowPrivilegeEscalation: s.allowPrivilegeEscalation,
            readOnlyRootFilesystem: s.readOnlyRootFilesystem,
            drop: s.capabilities?.drop,
            runAsUser: (s.runAsUser ?? pod.runAsUser) > 0,
          }).toEqual({
            container: `${w.metadata.name}/${c.name}`,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            drop: ["ALL"],
            runAsUser: true,
          });
        }
      }
    });

    test("requests and limits on every container, named ports, liveness and readiness probes", () => {
      for (const w of workloads(render(variant))) {
        for (const c of containers(w)) {
          const where = `${w.metadata.name}/${c.name}`;
          expect({
            where,
            cpu: !!c.resources?.requests?.cpu,
            memory: !!c.resources?.requests?.memory,
          }).toEqual({
            where,
            cpu: true,
            memory: true,
          });
          expect({ where, limit: !!c.resources?.limits?.memory, cpu: !!c.resources?.limits?.cpu }).toEqual({
            where,
            limit: true,
            cpu: true,
          });
          expect(bytes(c.resources.requests.memory)).toBeLessThanOrEqual(bytes(c.resources.limits.memory));
          for (const port of c.ports ?? [])
            expect({ where, name: port.name }).toEqual({ where, name: expect.any(String) });
          // Init containers run to completion before the pod starts: Kubernetes allows them no probes.
          const runsToCompletion = (podSpec(w).initContainers ?? []).includes(c);
          expect({ where, liveness: !!c.livenessProbe, readiness: !!c.readinessProbe }).toEqual({
            where,
            liveness: !runsToCompletion,
            readiness: !runsToCompletion,
          });
        }
      }
    });

    test("ingress and proxy roll out without losing capacity and shut down within their grace period", () => {
      const objects = render(variant);
      for (const service of ["ingress", "proxy"] as const) {
        const deployment = get(objects, "Deployment", service, APP);
        expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        expect(deployment.spec.minReadySeconds).toBeGreaterThan(0);
        const c = container(deployment, service);
        const preStop = c.lifecycle?.preStop?.sleep?.seconds ?? 0;
        expect(preStop).toBeGreaterThan(0);
        const env = effectiveEnv(objects, APP, c);
        // The longest a pod may legitimately keep working after SIGTERM.
        const drainMs =
          service === "proxy"
            ? Number(env.get("SHUTDOWN_GRACE_MS")?.value)
            : Number(env.get("REQUEST_TIMEOUT_MS")?.value);
        expect(Number.isFinite(drainMs)).toBe(true);
        expect(podSpec(deployment).terminationGracePeriodSeconds * 1000).toBeGreaterThan(
          drainMs + preStop * 1000,
        );
      }
    });
  });
}

describe("Redis keeps the queue", () => {
  const conf = readFileSync(join(KUSTOMIZE, "base/redis/redis.conf"), "utf8");

  test("append-only persistence and no eviction, from the mounted config", () => {
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    for (const overlay of OVERLAYS) {
      const objects = render(overlay);
      const configMap = generated(objects, "ConfigMap", "redis-config", APP);
      expect(configMap.data["redis.conf"]).toBe(conf);
      const statefulSet = get(objects, "StatefulSet", "redis", APP);
      const redis = container(statefulSet, "redis");
      const volume = podSpec(statefulSet).volumes.find(
        (v: K8sObject) => v.configMap?.name === configMap.metadata.name,
      );
      const mount = redis.volumeMounts.find((m: { name: string }) => m.name === volume.name);
      expect(redis.args[0]).toBe(`${mount.mountPath}/redis.conf`);
    }
  });

  for (const overlay of OVERLAYS) {
    test(`${overlay}: data on a PersistentVolumeClaim, maxmemory below the memory limit, password from the Secret`, () => {
      const statefulSet = get(render(overlay), "StatefulSet", "redis", APP);
      const redis = container(statefulSet, "redis");
      const [claim] = statefulSet.spec.volumeClaimTemplates;
      expect(redis.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: "/data" });
      expect(claim.spec.resources.requests.storage).toBeDefined();
      const args: string[] = redis.args;
      const maxmemory = args[args.indexOf("--maxmemory") + 1]!;
      expect(args.indexOf("--maxmemory")).toBeGreaterThan(0);
      // Redis refuses writes at maxmemory; the kernel must not kill it first.
      expect(bytes(maxmemory)).toBeLessThan(bytes(redis.resources.limits.memory) * 0.8);
      // Users, not one password: the ACL file the init container renders from the Secret.
      expect(args).not.toContain("--requirepass");
      const aclFile = args[args.indexOf("--aclfile") + 1]!;
      const renderAcl = podSpec(statefulSet).initContainers.find(
        (c: { name: string }) => c.name === "render-acl",
      );
      expect(renderAcl.command).toEqual([
        "sh",
        "/etc/redis/render-acl.sh",
        "/etc/redis/users.acl.template",
        aclFile,
      ]);
      expect(renderAcl.image).toBe(redis.image);
      // The generated Secret carries a content hash in its name.
      const redisAuth = expect.stringMatching(/^redis-auth(-[a-z0-9]+)?$/);
      const secretKey = (c: K8sObject, name: string) =>
        c.env.find((e: { name: string }) => e.name === name)?.valueFrom?.secretKeyRef;
      for (const key of REDIS_PASSWORD_KEYS)
        expect(secretKey(renderAcl, key)).toEqual({ name: redisAuth, key });
      // The rendered file is on a memory volume that only the init container may write.
      const aclMount = (c: K8sObject) =>
        c.volumeMounts.find((m: { mountPath: string }) => aclFile.startsWith(`${m.mountPath}/`));
      expect(aclMount(redis).readOnly).toBe(true);
      const aclVolume = statefulSet.spec.template.spec.volumes.find(
        (v: { name: string }) => v.name === aclMount(renderAcl).name,
      );
      expect(aclVolume.emptyDir.medium).toBe("Memory");
      // Probes and operators use redis-cli as admin; the exporter has its own user.
      expect(secretKey(redis, "REDISCLI_AUTH")).toEqual({ name: redisAuth, key: "REDIS_ADMIN_PASSWORD" });
      expect(redis.readinessProbe.exec.command.join(" ")).toContain("redis-cli --user admin ping");
      const exporter = container(statefulSet, "redis-exporter");
      expect(exporter.image).toStartWith("oliver006/redis_exporter:");
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_USER").value).toBe("exporter");
      expect(secretKey(exporter, "REDIS_PASSWORD")).toEqual({
        name: redisAuth,
        key: "REDIS_EXPORTER_PASSWORD",
      });
      expect(redis.image).toMatch(/^redis:(7|8)\./);
    });
  }
});

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
