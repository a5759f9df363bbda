import { describe, expect, test } from "bun:test";
import { SEED } from "./contract.ts";
import { get, redisName, VARIANTS, workloads } from "./kustomize.ts";
import { containers } from "./pods.ts";
import { APP, MONITORING, variantRefs } from "./references.ts";
import { allowed, type Pod, podsOf, selects } from "./selectors.ts";

// Who reaches whom: Services, selectors, disruption budgets, NetworkPolicies, the Ingress.
for (const variant of VARIANTS) {
  describe(`overlays/${variant}: cross-references`, () => {
    const { objects, redis, cluster } = variantRefs(variant);

    test("every Service selects the pods of its own workload, and its target ports exist there", () => {
      const services = objects().filter((o) => o.kind === "Service");
      expect(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).sort()).toEqual([
        `${MONITORING}/grafana`,
        `${MONITORING}/prometheus`,
        `${APP}/ingress`,
        `${APP}/proxy`,
        ...(cluster ? [`${APP}/redis-cluster`, `${APP}/redis-cluster-headless`] : [`${APP}/redis`]),
      ]);
      for (const service of services) {
        const selected = workloads(objects()).filter(
          (w) =>
            w.metadata.namespace === service.metadata.namespace &&
            Object.keys(service.spec.selector ?? {}).length > 0 &&
            selects({ matchLabels: service.spec.selector }, w.spec.template.metadata.labels),
        );
        // A StatefulSet's headless (governing) Service selects the same pods as its ClusterIP one.
        expect({ service: service.metadata.name, selects: selected.map((w) => w.metadata.name) }).toEqual({
          service: service.metadata.name,
          selects: [service.metadata.name.replace(/-headless$/, "")],
        });
        const ports = containers(selected[0]!).flatMap((c) => c.ports ?? []);
        for (const port of service.spec.ports) {
          const target = port.targetPort ?? port.port;
          const match = ports.filter((p: { name?: string; containerPort: number }) =>
            typeof target === "string" ? p.name === target : p.containerPort === target,
          );
          expect({ service: service.metadata.name, target, found: match.length }).toEqual({
            service: service.metadata.name,
            target,
            found: 1,
          });
        }
      }
    });

    test("workload selectors match their own pod template labels", () => {
      for (const w of workloads(objects())) {
        expect(selects(w.spec.selector, w.spec.template.metadata.labels)).toBe(true);
        // And no other workload's pods, or two controllers would fight over them.
        for (const other of workloads(objects())) {
          if (other === w || other.metadata.namespace !== w.metadata.namespace) continue;
          expect(selects(w.spec.selector, other.spec.template.metadata.labels)).toBe(false);
        }
      }
    });

    test("PodDisruptionBudgets select exactly the ingress and proxy pods (and the Redis Cluster nodes)", () => {
      const budgets = objects().filter((o) => o.kind === "PodDisruptionBudget");
      expect(budgets.map((b) => b.metadata.name).sort()).toEqual(
        cluster ? ["ingress", "proxy", "redis-cluster"] : ["ingress", "proxy"],
      );
      for (const budget of budgets) {
        const selected = podsOf(objects()).filter(
          (p) => p.namespace === budget.metadata.namespace && selects(budget.spec.selector, p.labels),
        );
        const kind = budget.metadata.name === "redis-cluster" ? "StatefulSet" : "Deployment";
        expect(selected.map((p) => p.owner)).toEqual([`${kind}/${budget.metadata.name}`]);
      }
    });

    test("NetworkPolicy pod selectors select the intended pods and nothing else", () => {
      const everyPod = ["Deployment/ingress", "Deployment/proxy", `StatefulSet/${redis}`];
      if (cluster) everyPod.push("Job/redis-cluster-init");
      const expected: Record<string, string[]> = {
        "default-deny": everyPod.sort(),
        "allow-dns-egress": everyPod.sort(),
        [redis]: [`StatefulSet/${redis}`],
        ingress: ["Deployment/ingress"],
        proxy: ["Deployment/proxy"],
      };
      if (cluster) expected["redis-cluster-init"] = ["Job/redis-cluster-init"];
      if (variant === "prod-keda") expected["redis-from-keda"] = ["StatefulSet/redis"];
      const policies = objects().filter((o) => o.kind === "NetworkPolicy");
      const actual = Object.fromEntries(
        policies.map((policy) => [
          policy.metadata.name,
          podsOf(objects())
            .filter(
              (p) => p.namespace === policy.metadata.namespace && selects(policy.spec.podSelector, p.labels),
            )
            .map((p) => p.owner)
            .sort(),
        ]),
      );
      expect(actual).toEqual(expected);
      expect(new Set(policies.map((p) => p.metadata.namespace))).toEqual(new Set([APP]));
    });

    test("NetworkPolicies allow exactly the flows the design needs", () => {
      const pods = podsOf(objects());
      const pod = (owner: string) => {
        const found = pods.find((p) => p.owner === owner);
        if (!found) throw new Error(`no pod of ${owner}`);
        return found;
      };
      const ingress = pod("Deployment/ingress");
      const proxy = pod("Deployment/proxy");
      const redis = pod(`StatefulSet/${redisName(variant)}`);
      const prometheus = pod("Deployment/prometheus");
      const outsider = (namespace: string, labels: Record<string, string> = {}): Pod => ({
        namespace,
        labels,
        ports: [],
        owner: `outsider/${namespace}`,
      });
      const controller = outsider("ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" });
      const kedaOperator = outsider("keda", { app: "keda-operator" });
      const dns = { ...outsider("kube-system", { "k8s-app": "kube-dns" }), ports: [{ containerPort: 53 }] };
      const may = (from: Pod, to: Pod, port: number) => allowed(objects(), from, to, port);

      // Redis: from the two services, and exporter scrapes from Prometheus; nobody else.
      expect(may(ingress, redis, 6379)).toBe(true);
      expect(may(proxy, redis, 6379)).toBe(true);
      expect(may(prometheus, redis, 9121)).toBe(true);
      expect(may(prometheus, redis, 6379)).toBe(false);
      expect(may(outsider(APP, { "app.kubernetes.io/name": "debug" }), redis, 6379)).toBe(false);
      expect(may(outsider("default", { "app.kubernetes.io/name": "ingress" }), redis, 6379)).toBe(false);
      expect(may(kedaOperator, redis, 6379)).toBe(variant === "prod-keda");
      // The ingress: the controller and Prometheus on its HTTP port.
      expect(may(controller, ingress, 3000)).toBe(true);
      expect(may(prometheus, ingress, 3000)).toBe(true);
      expect(may(outsider("default"), ingress, 3000)).toBe(false);
      expect(may(proxy, ingress, 3000)).toBe(false);
      // Proxies: only Prometheus scrapes.
      expect(may(prometheus, proxy, 3001)).toBe(true);
      expect(may(controller, proxy, 3001)).toBe(false);
      expect(may(ingress, proxy, 3001)).toBe(false);
      expect(may(outsider(MONITORING, { "app.kubernetes.io/name": "grafana" }), proxy, 3001)).toBe(false);
      // DNS for everyone in the namespace; no other egress from Redis.
      for (const from of [ingress, proxy, redis]) expect(may(from, dns, 53)).toBe(true);
      expect(may(redis, ingress, 3000)).toBe(false);
      expect(may(ingress, outsider("default"), 443)).toBe(false);
    });
    test("the Ingress routes redis-stream-demo.local to the ingress Service's HTTP port", () => {
      const ingress = get(objects(), "Ingress", "redis-stream-demo", APP);
      expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual([SEED.host]);
      const backend = ingress.spec.rules[0].http.paths[0].backend.service;
      const service = get(objects(), "Service", backend.name, APP);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
      expect(get(objects(), "Deployment", backend.name, APP)).toBeDefined();
    });
  });
}
