import { describe, expect, test } from "bun:test";
import { CONSUMER_GROUP, METRICS_PATH, requestStream, SEED } from "./contract.ts";
import { find, get, render, VARIANTS, workloads } from "./kustomize.ts";
import { container, containers, effectiveEnv, podSpec } from "./pods.ts";
import { APP, MONITORING, variantRefs } from "./references.ts";

// How it is run: autoscalers, Prometheus scraping and discovery, namespaces.
for (const variant of VARIANTS) {
  describe(`overlays/${variant}: cross-references`, () => {
    const { objects, redis } = variantRefs(variant);

    test("every autoscaler targets an existing Deployment, and no Deployment has two", () => {
      const scalers = objects().filter(
        (o) => o.kind === "HorizontalPodAutoscaler" || o.kind === "ScaledObject",
      );
      const targets = scalers.map((s) => {
        const ref = s.spec.scaleTargetRef;
        expect(ref.apiVersion ?? "apps/v1").toBe("apps/v1");
        expect(ref.kind ?? "Deployment").toBe("Deployment");
        get(objects(), "Deployment", ref.name, s.metadata.namespace);
        return `${s.metadata.namespace}/${ref.name}`;
      });
      expect(new Set(targets).size).toBe(targets.length);
      for (const hpa of objects().filter((o) => o.kind === "HorizontalPodAutoscaler")) {
        const deployment = get(objects(), "Deployment", hpa.spec.scaleTargetRef.name, hpa.metadata.namespace);
        expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        // Applying the manifest must not push the count outside what the HPA would keep.
        expect(deployment.spec.replicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
        expect(deployment.spec.replicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
        // A CPU utilisation target needs CPU requests on every container.
        for (const c of containers(deployment)) expect(c.resources?.requests?.cpu).toBeDefined();
      }
    });
    test("Prometheus annotations point at a real container port and the metrics path", () => {
      const scraped = workloads(objects()).filter(
        (w) => w.spec.template.metadata.annotations?.["prometheus.io/scrape"] === "true",
      );
      expect(scraped.map((w) => w.metadata.name).sort()).toEqual([
        "grafana",
        "ingress",
        "prometheus",
        "proxy",
        redis,
      ]);
      for (const w of scraped) {
        const annotations = w.spec.template.metadata.annotations;
        const ports = containers(w).flatMap((c) => c.ports ?? []);
        expect(ports.map((p: { containerPort: number }) => String(p.containerPort))).toContain(
          annotations["prometheus.io/port"],
        );
        expect(annotations["prometheus.io/path"]).toBe(METRICS_PATH);
      }
      // The Redis pod is scraped through its exporter sidecar's named port.
      const redisSet = get(objects(), "StatefulSet", redis, APP);
      expect(redisSet.spec.template.metadata.annotations["prometheus.io/port"]).toBe("9121");
      expect(container(redisSet, "redis-exporter").ports).toEqual([
        { name: "http-metrics", containerPort: 9121, protocol: "TCP" },
      ]);
    });
    test("app objects live in the app namespace, Prometheus and Grafana in monitoring", () => {
      const namespaced = objects().filter(
        (o) => !["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(o.kind),
      );
      for (const o of namespaced) {
        const name = o.metadata.name.replace(/-[a-z0-9]{10}$/, "");
        const inMonitoring = /^(prometheus|grafana)/.test(name);
        expect({ object: `${o.kind}/${name}`, namespace: o.metadata.namespace }).toEqual({
          object: `${o.kind}/${name}`,
          namespace: inMonitoring ? MONITORING : APP,
        });
      }
      expect(
        objects()
          .filter((o) => o.kind === "Namespace")
          .map((o) => o.metadata.name)
          .sort(),
      ).toEqual([MONITORING, APP].sort());
    });

    test("Prometheus may discover pods and nodes with its own ServiceAccount", () => {
      const deployment = get(objects(), "Deployment", "prometheus", MONITORING);
      const account = podSpec(deployment).serviceAccountName;
      get(objects(), "ServiceAccount", account, MONITORING);
      const bindings = objects().filter(
        (o) =>
          o.kind === "ClusterRoleBinding" &&
          o.subjects.some(
            (s: { kind: string; name: string; namespace: string }) =>
              s.kind === "ServiceAccount" && s.name === account && s.namespace === MONITORING,
          ),
      );
      const rules = bindings.flatMap((b) => get(objects(), "ClusterRole", b.roleRef.name).rules);
      for (const resource of ["pods", "nodes", "nodes/proxy"]) {
        const rule = rules.find((r: { resources: string[] }) => r.resources.includes(resource));
        expect({ resource, verbs: rule?.verbs }).toEqual({
          resource,
          verbs: expect.arrayContaining(["get", "list", "watch"]),
        });
      }
      expect(
        rules
          .flatMap((r: { verbs: string[] }) => r.verbs)
          .filter((v: string) => !["get", "list", "watch"].includes(v)),
      ).toEqual([]);
    });
  });
}

describe("prod-keda: queue-aware autoscaling", () => {
  const objects = () => render("prod-keda");

  test("the ScaledObject replaces the proxy HPA and reads the consumer group's lag", () => {
    expect(find(objects(), "HorizontalPodAutoscaler", "proxy", APP)).toBeUndefined();
    expect(find(objects(), "HorizontalPodAutoscaler", "ingress", APP)).toBeDefined();
    const scaled = get(objects(), "ScaledObject", "proxy", APP);
    const proxy = container(get(objects(), "Deployment", "proxy", APP), "proxy");
    const env = effectiveEnv(objects(), APP, proxy);
    const [trigger] = scaled.spec.triggers;
    expect(scaled.spec.triggers).toHaveLength(1);
    expect(trigger.type).toBe("redis-streams");
    expect(trigger.metadata.stream).toBe(requestStream(env.get("STREAM_PREFIX")!.value!));
    expect(trigger.metadata.consumerGroup).toBe(CONSUMER_GROUP);
    expect(Number(trigger.metadata.lagCount)).toBeGreaterThan(0);
    expect(trigger.metadata.lagCount).toMatch(/^\d+$/);
    // The password env KEDA reads must exist in the target's container, from the Redis Secret.
    expect(env.get(trigger.metadata.passwordFromEnv)?.from?.kind).toBe("Secret");
    // KEDA logs in as its own read-only user, never as the proxy (users.acl.template).
    expect(env.get(trigger.metadata.usernameFromEnv)?.value).toBe("keda");
    expect(env.get(trigger.metadata.passwordFromEnv)?.from?.key).toBe("REDIS_KEDA_PASSWORD");
    // The address is the Redis Service.
    const [host, port] = trigger.metadata.address.split(":");
    const [serviceName, namespace] = host.split(".");
    expect(namespace).toBe(APP);
    const service = get(objects(), "Service", serviceName, APP);
    expect(service.spec.ports.map((p: { port: number }) => String(p.port))).toContain(port);
    // Capped by what the backend allows: the seed's proxy bounds.
    expect(scaled.spec.minReplicaCount).toBe(SEED.proxy.min);
    expect(scaled.spec.maxReplicaCount).toBe(SEED.proxy.max);
  });
});
