import { describe, expect, test } from "bun:test";
import { get, render, VARIANTS, workloads } from "./kustomize.ts";
import { container, containers, effectiveEnv, podSpec } from "./pods.ts";
import { APP, bytes } from "./topology.ts";

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
