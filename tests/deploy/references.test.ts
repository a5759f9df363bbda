import { describe, expect, test } from "bun:test";
import {
  CONSUMER_GROUP,
  contractVars,
  LIVENESS_PATH,
  METRICS_PATH,
  READINESS_PATH,
  requestStream,
  requiredVars,
  SEED,
  SERVICE_PORT,
  type Service,
} from "./contract.ts";
import { find, get, isCluster, type K8sObject, redisName, render, VARIANTS, workloads } from "./kustomize.ts";
import { container, containers, dependentRefs, effectiveEnv, podSpec } from "./pods.ts";
import { allowed, type Pod, podsOf, selects } from "./selectors.ts";

const APP = SEED.appNamespace;
const MONITORING = SEED.monitoringNamespace;
const SERVICES: Service[] = ["ingress", "proxy"];

for (const variant of VARIANTS) {
  describe(`overlays/${variant}: cross-references`, () => {
    const objects = () => render(variant);
    // The single Redis, or the Redis Cluster (its StatefulSet, Services and policy) that replaces it.
    const redis = redisName(variant);
    const cluster = isCluster(variant);

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

    for (const service of SERVICES) {
      test(`${service}: probes and container port match the routes and PORT`, () => {
        const deployment = get(objects(), "Deployment", service, APP);
        const c = container(deployment, service);
        const { port, name } = SERVICE_PORT[service];
        expect(c.ports).toEqual([{ name, containerPort: port, protocol: "TCP" }]);
        expect(c.livenessProbe.httpGet).toEqual({ path: LIVENESS_PATH, port: name });
        expect(c.readinessProbe.httpGet).toEqual({ path: READINESS_PATH, port: name });
        if (c.startupProbe) expect(c.startupProbe.httpGet.port).toBe(name);
        const env = effectiveEnv(objects(), APP, c);
        expect(env.get("PORT")?.value).toBe(String(port));
      });

      test(`${service}: environment is the configuration contract, complete`, () => {
        const deployment = get(objects(), "Deployment", service, APP);
        const c = container(deployment, service);
        const env = effectiveEnv(objects(), APP, c);
        // KEDA_REDIS_*: KEDA's own read-only credentials, read by its scaler from the proxy's env
        // (the KEDA component adds them); the proxy ignores them.
        const allowedNames = new Set([
          ...contractVars(service),
          "REDIS_PASSWORD",
          "KEDA_REDIS_USERNAME",
          "KEDA_REDIS_PASSWORD",
        ]);
        expect([...env.keys()].filter((k) => !allowedNames.has(k))).toEqual([]);
        expect(requiredVars(service, "kubernetes").filter((k) => !env.has(k))).toEqual([]);
        // Every ConfigMap key is a contract variable (no typo'd names that would be silently ignored).
        for (const source of c.envFrom ?? []) {
          const configMap = get(objects(), "ConfigMap", source.configMapRef.name, APP);
          const stray = Object.keys(configMap.data).filter((k) => !contractVars(service).has(k));
          expect({ configMap: configMap.metadata.name, stray }).toEqual({
            configMap: configMap.metadata.name,
            stray: [],
          });
        }
        // The consumer name is the pod name; the password reaches REDIS_URL from the Secret only.
        expect(env.get("POD_NAME")?.from).toEqual({ kind: "field", name: "", key: "metadata.name" });
        const password = env.get("REDIS_PASSWORD")?.from;
        expect(password?.kind).toBe("Secret");
        get(objects(), "Secret", password!.name, APP);
        const url = env.get("REDIS_URL")?.value ?? "";
        // Its own Redis ACL user, with that user's password from the Secret; the host is the Redis
        // Service (with a cluster only the scheme, user and password count: REDIS_CLUSTER_NODES).
        expect(url).toMatch(new RegExp(`^rediss?://${service}:\\$\\(REDIS_PASSWORD\\)@${redis}:6379$`));
        get(objects(), "Service", redis, APP);
        expect(password?.key).toBe(`REDIS_${service.toUpperCase()}_PASSWORD`);
        // $(VAR) only expands when VAR is defined earlier in the list.
        const names = (c.env ?? []).map((e: { name: string }) => e.name);
        for (const ref of dependentRefs(url))
          expect(names.indexOf(ref)).toBeLessThan(names.indexOf("REDIS_URL"));
        if (env.get("HANDLER")?.value === "http")
          expect(env.get("UPSTREAM_URL")?.value).toMatch(/^https?:\/\//);
      });
    }

    test("both services agree on the shared settings", () => {
      const envs = SERVICES.map((s) =>
        effectiveEnv(objects(), APP, container(get(objects(), "Deployment", s, APP), s)),
      );
      for (const key of [
        "STREAM_PREFIX",
        "MAX_TIMEOUT_MS",
        "REDIS_URL",
        ...(cluster ? ["REDIS_CLUSTER_NODES", "STREAM_SHARDS"] : []),
      ]) {
        // The same Redis; each service as its own ACL user.
        const value = (env: (typeof envs)[number]) =>
          env.get(key)?.value?.replace(/^(rediss?:\/\/)\w*:/, "$1:");
        expect(value(envs[0]!)).toBeString();
        expect(value(envs[0]!)).toBe(value(envs[1]!) as string);
      }
    });

    test("every ConfigMap and Secret a pod reads is rendered in its namespace", () => {
      for (const w of workloads(objects())) {
        const namespace = w.metadata.namespace;
        for (const volume of podSpec(w).volumes ?? []) {
          if (volume.configMap) get(objects(), "ConfigMap", volume.configMap.name, namespace);
          if (volume.secret) get(objects(), "Secret", volume.secret.secretName, namespace);
        }
        for (const c of containers(w)) {
          for (const [, source] of effectiveEnv(objects(), namespace, c)) {
            if (source.from?.kind === "Secret") {
              const secret = get(objects(), "Secret", source.from.name, namespace);
              expect(Object.keys(secret.data ?? {})).toContain(source.from.key);
            }
          }
          for (const mount of c.volumeMounts ?? []) {
            const volumes = [
              ...(podSpec(w).volumes ?? []),
              ...(w.spec.volumeClaimTemplates ?? []).map((t: K8sObject) => t.metadata),
            ];
            expect(volumes.map((v: { name: string }) => v.name)).toContain(mount.name);
          }
        }
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

    test("the Ingress routes redis-stream-demo.local to the ingress Service's HTTP port", () => {
      const ingress = get(objects(), "Ingress", "redis-stream-demo", APP);
      expect(ingress.spec.rules.map((r: { host: string }) => r.host)).toEqual([SEED.host]);
      const backend = ingress.spec.rules[0].http.paths[0].backend.service;
      const service = get(objects(), "Service", backend.name, APP);
      expect(service.spec.ports.map((p: { name: string }) => p.name)).toContain(backend.port.name);
      expect(get(objects(), "Deployment", backend.name, APP)).toBeDefined();
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
