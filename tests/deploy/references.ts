import { SEED, type Service } from "./contract.ts";
import { isCluster, redisName, render, type Variant } from "./kustomize.ts";

/** What the cross-reference test files share: the namespaces, the services, one rendered variant. */
export const APP = SEED.appNamespace;
export const MONITORING = SEED.monitoringNamespace;
export const SERVICES: Service[] = ["ingress", "proxy"];

/** One overlay's objects (render caches them) and which Redis it runs. */
export function variantRefs(variant: Variant) {
  return {
    objects: () => render(variant),
    // The single Redis, or the Redis Cluster (its StatefulSet, Services and policy) that replaces it.
    redis: redisName(variant),
    cluster: isCluster(variant),
  };
}
