import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CLUSTER_COMPONENT,
  CLUSTER_VARIANTS,
  find,
  generated,
  get,
  type K8sObject,
  KUSTOMIZE,
  kustomize,
  kustomizeCopy,
  render,
} from "./kustomize.ts";
import { container, podSpec } from "./pods.ts";
import { APP, clusterVariant, componentFile, directives, mountedFiles } from "./redis-cluster.ts";

describe("the redis-cluster component", () => {
  test("is a Component (applies on top of any overlay), named in prod's commented components line", () => {
    const text = componentFile("kustomization.yaml");
    expect(text).toMatch(/^kind: Component$/m);
    expect(text).toMatch(/^apiVersion: kustomize\.config\.k8s\.io\/v1alpha1$/m);
    const prod = readFileSync(join(KUSTOMIZE, "overlays/prod/kustomization.yaml"), "utf8");
    expect(prod).toContain(`# components:\n#   - ../../${CLUSTER_COMPONENT}\n`);
  });

  test("also renders as an overlay of its own on top of prod, without warnings", () => {
    const dir = join(kustomizeCopy(), "overlays", "prod-cluster-on-top");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "kustomization.yaml"),
      `resources: [../prod]\ncomponents: [../../${CLUSTER_COMPONENT}]\n`,
    );
    const result = kustomize(dir);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("name: redis-cluster-init");
  });
});

// The nodes themselves; what connects to them is in redis-cluster-clients.test.ts.
for (const variant of CLUSTER_VARIANTS) {
  describe(`overlays/${variant}: a Redis Cluster replaces the single Redis`, () => {
    const { objects, statefulSet } = clusterVariant(variant);

    test("the single Redis StatefulSet, Service and NetworkPolicy are gone; its ConfigMap stays for the nodes", () => {
      for (const kind of ["StatefulSet", "Service", "NetworkPolicy"])
        expect({ kind, found: find(objects(), kind, "redis", APP) }).toEqual({ kind, found: undefined });
      const redisConfig = generated(objects(), "ConfigMap", "redis-config", APP);
      const volumes = podSpec(statefulSet()).volumes.map((v: K8sObject) => v.configMap?.name);
      expect(volumes).toContain(redisConfig.metadata.name);
      // Nothing still points at the old Service by name.
      const text = JSON.stringify(objects());
      expect(text).not.toMatch(/@redis:6379|"redis\.redis-stream-demo/);
    });

    test("6 nodes (3 masters + 3 replicas), a headless governing Service with named client and bus ports", () => {
      const sts = statefulSet();
      expect(sts.spec.replicas).toBe(6);
      const headless = get(objects(), "Service", sts.spec.serviceName, APP);
      expect(headless.spec.clusterIP).toBe("None");
      // The init Job must resolve the nodes before the cluster exists (and they are ready).
      expect(headless.spec.publishNotReadyAddresses).toBe(true);
      expect(headless.spec.selector).toEqual(sts.spec.selector.matchLabels);
      expect(container(sts, "redis").ports).toEqual([
        { name: "redis", containerPort: 6379, protocol: "TCP" },
        { name: "cluster-bus", containerPort: 16379, protocol: "TCP" },
      ]);
      expect(headless.spec.ports.map((p: K8sObject) => [p.name, p.port, p.targetPort])).toEqual([
        ["redis", 6379, "redis"],
        ["cluster-bus", 16379, "cluster-bus"],
      ]);
      const service = get(objects(), "Service", "redis-cluster", APP);
      expect(service.spec.type).toBe("ClusterIP");
      expect(service.spec.selector).toEqual(sts.spec.selector.matchLabels);
    });

    test("each node: cluster mode, nodes.conf and the AOF on the PVC, noeviction, the base's ACL users", () => {
      const sts = statefulSet();
      const redis = container(sts, "redis");
      const files = mountedFiles(objects(), sts, redis);
      const confPath = redis.args[0];
      const conf = files.get(confPath);
      expect(conf).toBe(componentFile("redis-cluster.conf"));
      const settings = new Map<string, string>();
      for (const [name, value] of directives(conf!)) {
        if (name === "include") {
          // Every included file is there: the base's redis.conf (mounted) or the rendered login.
          const included = files.get(value);
          if (included !== undefined) for (const [n, v] of directives(included)) settings.set(n!, v);
          else expect(value).toStartWith("/run/redis-acl/");
        } else settings.set(name, value);
      }
      expect(settings.get("cluster-enabled")).toBe("yes");
      expect(settings.get("appendonly")).toBe("yes");
      expect(settings.get("maxmemory-policy")).toBe("noeviction");
      expect(settings.get("cluster-require-full-coverage")).toBe("no");
      const [claim] = sts.spec.volumeClaimTemplates;
      const dataMount = redis.volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
      expect(settings.get("cluster-config-file")).toStartWith(`${dataMount.mountPath}/`);
      expect(settings.get("dir")).toBe(dataMount.mountPath);
      // Same ACL users as the single Redis: the base's template, rendered by the base's script.
      const aclFile = redis.args[redis.args.indexOf("--aclfile") + 1];
      const init = podSpec(sts).initContainers.find((c: { name: string }) => c.name === "render-acl");
      const initFiles = mountedFiles(objects(), sts, init);
      const script = init.command.join(" ");
      expect(script).toContain(`render-acl.sh /etc/redis/users.acl.template ${aclFile}`);
      expect(initFiles.get("/etc/redis/render-acl.sh")).toBe(
        readFileSync(join(KUSTOMIZE, "base/redis/render-acl.sh"), "utf8"),
      );
      expect(initFiles.get("/etc/redis/users.acl.template")).toBe(
        readFileSync(join(KUSTOMIZE, "base/redis/users.acl.template"), "utf8"),
      );
      // And the replication login the config includes, on the same memory volume.
      const replication = directives(conf!).find(([n, v]) => n === "include" && v.startsWith("/run/"))![1];
      expect(script).toContain(`render-replication-auth.sh ${replication}`);
      const acl = podSpec(sts).volumes.find((v: { name: string }) => v.name === "acl");
      expect(acl.emptyDir.medium).toBe("Memory");
      expect(redis.args).not.toContain("--requirepass");
      expect(redis.args).not.toContain("--masterauth");
      expect(redis.args[redis.args.indexOf("--maxmemory") + 1]).toMatch(/^\d+(mb|gb)$/);
    });

    test("every node has its exporter sidecar, scraped through its named port", () => {
      const sts = statefulSet();
      const exporter = container(sts, "redis-exporter");
      expect(exporter.image).toStartWith("oliver006/redis_exporter:");
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_ADDR").value).toBe(
        "redis://127.0.0.1:6379",
      );
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_USER").value).toBe("exporter");
      expect(sts.spec.template.metadata.annotations["prometheus.io/port"]).toBe("9121");
      expect(exporter.ports).toEqual([{ name: "http-metrics", containerPort: 9121, protocol: "TCP" }]);
    });

    test("a PodDisruptionBudget lets one node go at a time", () => {
      const pdb = get(objects(), "PodDisruptionBudget", "redis-cluster", APP);
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector).toEqual(statefulSet().spec.selector);
    });
  });
}

test("prod-cluster keeps prod's Redis sizing, per node", () => {
  const sts = get(render("prod-cluster"), "StatefulSet", "redis-cluster", APP);
  const single = get(render("prod"), "StatefulSet", "redis", APP);
  const args = (w: K8sObject) => container(w, "redis").args as string[];
  const maxmemory = (w: K8sObject) => args(w)[args(w).indexOf("--maxmemory") + 1];
  expect(maxmemory(sts)).toBe(maxmemory(single));
  expect(container(sts, "redis").resources).toEqual(container(single, "redis").resources);
  expect(sts.spec.volumeClaimTemplates[0].spec).toEqual(single.spec.volumeClaimTemplates[0].spec);
});
