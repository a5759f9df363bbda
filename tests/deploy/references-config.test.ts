import { describe, expect, test } from "bun:test";
import { contractVars, LIVENESS_PATH, READINESS_PATH, requiredVars, SERVICE_PORT } from "./contract.ts";
import { get, type K8sObject, VARIANTS, workloads } from "./kustomize.ts";
import { container, containers, dependentRefs, effectiveEnv, podSpec } from "./pods.ts";
import { APP, SERVICES, variantRefs } from "./references.ts";

// What the pods read: probes, the configuration contract, ConfigMaps and Secrets.
for (const variant of VARIANTS) {
  describe(`overlays/${variant}: cross-references`, () => {
    const { objects, redis, cluster } = variantRefs(variant);

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
  });
}
