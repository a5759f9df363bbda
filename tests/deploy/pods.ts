/** Reading pod templates of rendered objects: containers and their effective environment. */
import { get, type K8sObject } from "./kustomize.ts";

export interface EnvSource {
  value?: string;
  /** configMap/secret name and key, or a downward-API field path. */
  from?: { kind: "ConfigMap" | "Secret" | "field"; name: string; key: string };
}

export const podSpec = (workload: K8sObject) => workload.spec.template.spec;
// biome-ignore lint/suspicious/noExplicitAny: containers are checked field by field by the tests.
export const containers = (workload: K8sObject): any[] => [
  ...(podSpec(workload).initContainers ?? []),
  ...podSpec(workload).containers,
];
export const container = (workload: K8sObject, name: string) => {
  const found = podSpec(workload).containers.find((c: { name: string }) => c.name === name);
  if (!found) throw new Error(`${workload.metadata.name} has no container ${name}`);
  return found;
};

/**
 * The environment a container starts with: envFrom ConfigMaps (which must exist) first, then `env`
 * entries in order, later ones winning, as the kubelet does. Values of ConfigMaps are resolved;
 * secrets and field references are recorded by source.
 */
export function effectiveEnv(objects: K8sObject[], namespace: string, c: K8sObject): Map<string, EnvSource> {
  const env = new Map<string, EnvSource>();
  for (const source of c.envFrom ?? []) {
    if (source.configMapRef) {
      const configMap = get(objects, "ConfigMap", source.configMapRef.name, namespace);
      for (const [key, value] of Object.entries(configMap.data ?? {}))
        env.set(key, { value: value as string });
    } else if (source.secretRef) {
      const secret = get(objects, "Secret", source.secretRef.name, namespace);
      for (const key of Object.keys({ ...secret.data, ...secret.stringData })) {
        env.set(key, { from: { kind: "Secret", name: source.secretRef.name, key } });
      }
    }
  }
  for (const entry of c.env ?? []) {
    const ref = entry.valueFrom;
    if (ref?.secretKeyRef) {
      env.set(entry.name, {
        from: { kind: "Secret", name: ref.secretKeyRef.name, key: ref.secretKeyRef.key },
      });
    } else if (ref?.configMapKeyRef) {
      const configMap = get(objects, "ConfigMap", ref.configMapKeyRef.name, namespace);
      env.set(entry.name, { value: configMap.data?.[ref.configMapKeyRef.key] });
    } else if (ref?.fieldRef) {
      env.set(entry.name, { from: { kind: "field", name: "", key: ref.fieldRef.fieldPath } });
    } else {
      env.set(entry.name, { value: entry.value ?? "" });
    }
  }
  return env;
}

/** `$(NAME)` references in a value that the kubelet expands, in order. */
export const dependentRefs = (value: string) =>
  [...value.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]!);

/** The workload a named Service, HPA or ScaledObject points at. */
export const workload = (objects: K8sObject[], kind: string, name: string, namespace: string) =>
  get(objects, kind, name, namespace);
