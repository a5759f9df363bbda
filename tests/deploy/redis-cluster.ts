import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SEED } from "./contract.ts";
import { CLUSTER_COMPONENT, get, type K8sObject, KUSTOMIZE, render, type Variant } from "./kustomize.ts";
import { container, podSpec } from "./pods.ts";

/** What the redis-cluster test files share: the component's folder, its files, and one rendered variant. */
export const APP = SEED.appNamespace;
export const COMPONENT = join(KUSTOMIZE, CLUSTER_COMPONENT);
export const componentFile = (name: string) => readFileSync(join(COMPONENT, name), "utf8");

/** Where a file of a ConfigMap volume is inside a container: mountPath/key -> content. */
export function mountedFiles(objects: K8sObject[], workload: K8sObject, c: K8sObject): Map<string, string> {
  const files = new Map<string, string>();
  for (const mount of c.volumeMounts ?? []) {
    const volume = podSpec(workload).volumes.find((v: { name: string }) => v.name === mount.name);
    if (!volume?.configMap) continue;
    const configMap = get(objects, "ConfigMap", volume.configMap.name, APP);
    for (const [key, value] of Object.entries(configMap.data as Record<string, string>))
      files.set(`${mount.mountPath}/${key}`, value);
  }
  return files;
}

/** `include`, `dir` and other single-value directives of a redis.conf, in order. */
export const directives = (conf: string) =>
  conf
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [name, ...rest] = line.split(/\s+/);
      return [name!, rest.join(" ")] as const;
    });

/** Accessors into one overlay that uses the component (render caches the objects). */
export function clusterVariant(variant: Variant) {
  const objects = () => render(variant);
  const statefulSet = () => get(objects(), "StatefulSet", "redis-cluster", APP);
  const job = () => get(objects(), "Job", "redis-cluster-init", APP);
  /** The pods' stable DNS names, `<statefulset>-<n>.<governing service>:<client port>`. */
  const podAddresses = () => {
    const sts = statefulSet();
    const port = container(sts, "redis").ports.find(
      (p: { name: string }) => p.name === "redis",
    ).containerPort;
    return Array.from(
      { length: sts.spec.replicas },
      (_, n) => `${sts.metadata.name}-${n}.${sts.spec.serviceName}:${port}`,
    );
  };
  return { objects, statefulSet, job, podAddresses };
}
