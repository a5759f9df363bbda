import { describe, expect, test } from "bun:test";
import { SEED, type Service } from "./contract.ts";
import { find, get, type K8sObject, render, workloads } from "./kustomize.ts";
import { container, containers, effectiveEnv } from "./pods.ts";
import { APP } from "./topology.ts";

const replicas = (objects: K8sObject[], service: Service) => ({
  replicas: get(objects, "Deployment", service, APP).spec.replicas,
  min: find(objects, "HorizontalPodAutoscaler", service, APP)?.spec.minReplicas,
  max: find(objects, "HorizontalPodAutoscaler", service, APP)?.spec.maxReplicas,
});

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
