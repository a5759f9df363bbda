import { describe, expect, test } from "bun:test";
import { CLUSTER_VARIANTS, get, jobs } from "./kustomize.ts";
import { container, containers, effectiveEnv, podSpec } from "./pods.ts";
import { APP, clusterVariant, componentFile, mountedFiles } from "./redis-cluster.ts";
import { allowed, type Pod, podsOf } from "./selectors.ts";

// What talks to the nodes: the init Job, the services, the NetworkPolicies (the nodes: redis-cluster-nodes.test.ts).
for (const variant of CLUSTER_VARIANTS) {
  describe(`overlays/${variant}: a Redis Cluster replaces the single Redis`, () => {
    const { objects, statefulSet, job, podAddresses } = clusterVariant(variant);

    test("the cluster-init Job names exactly the StatefulSet's pods, one replica per master", () => {
      const j = job();
      const c = j.spec.template.spec.containers[0];
      const env = effectiveEnv(objects(), APP, c);
      expect(env.get("CLUSTER_NODES")?.value?.split(/\s+/)).toEqual(podAddresses());
      const replicasPerMaster = Number(env.get("CLUSTER_REPLICAS")?.value);
      expect(replicasPerMaster).toBe(1);
      expect(statefulSet().spec.replicas % (replicasPerMaster + 1)).toBe(0);
      expect(env.get("REDISCLI_AUTH")?.from).toEqual({
        kind: "Secret",
        name: expect.stringMatching(/^redis-auth(-[a-z0-9]+)?$/),
        key: "REDIS_ADMIN_PASSWORD",
      });
      // It runs the component's script, from the mounted ConfigMap.
      const files = mountedFiles(objects(), j, c);
      expect(c.command.slice(0, 1)).toEqual(["sh"]);
      expect(files.get(c.command[1])).toBe(componentFile("cluster-init.sh"));
      expect(j.spec.template.spec.restartPolicy).toBe("OnFailure");
    });

    test("the Job's pod is hardened and bounded like every other pod", () => {
      for (const j of jobs(objects())) {
        const pod = podSpec(j).securityContext;
        expect(pod.runAsNonRoot).toBe(true);
        expect(pod.seccompProfile.type).toBe("RuntimeDefault");
        expect(podSpec(j).automountServiceAccountToken).toBe(false);
        for (const c of containers(j)) {
          expect(c.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          });
          expect(c.resources.requests.cpu && c.resources.requests.memory).toBeTruthy();
          expect(c.resources.limits.cpu && c.resources.limits.memory).toBeTruthy();
        }
      }
    });

    test("ingress and proxy get REDIS_CLUSTER_NODES (the same pods) and STREAM_SHARDS >= masters", () => {
      const masters = statefulSet().spec.replicas / 2;
      for (const service of ["ingress", "proxy"]) {
        const env = effectiveEnv(
          objects(),
          APP,
          container(get(objects(), "Deployment", service, APP), service),
        );
        expect(env.get("REDIS_CLUSTER_NODES")?.value?.split(",")).toEqual(podAddresses());
        const shards = Number(env.get("STREAM_SHARDS")?.value);
        expect(shards).toBe(3);
        expect(shards).toBeGreaterThanOrEqual(masters);
      }
    });

    test("NetworkPolicies: clients and the Job reach 6379, the nodes reach each other on 6379 and 16379", () => {
      const pods = podsOf(objects());
      const pod = (owner: string) => pods.find((p) => p.owner === owner)!;
      const node = pod("StatefulSet/redis-cluster");
      const init = pod("Job/redis-cluster-init");
      const ingress = pod("Deployment/ingress");
      const proxy = pod("Deployment/proxy");
      const prometheus = pod("Deployment/prometheus");
      const debug: Pod = {
        namespace: APP,
        labels: { "app.kubernetes.io/name": "debug" },
        ports: [],
        owner: "x",
      };
      const may = (from: Pod, to: Pod, port: number) => allowed(objects(), from, to, port);
      for (const client of [ingress, proxy, init]) {
        expect({ from: client.owner, ok: may(client, node, 6379) }).toEqual({ from: client.owner, ok: true });
        expect({ from: client.owner, bus: may(client, node, 16379) }).toEqual({
          from: client.owner,
          bus: false,
        });
      }
      expect(may(node, node, 6379)).toBe(true);
      expect(may(node, node, 16379)).toBe(true);
      expect(may(prometheus, node, 9121)).toBe(true);
      expect(may(prometheus, node, 6379)).toBe(false);
      expect(may(debug, node, 6379)).toBe(false);
      expect(may(init, ingress, 3000)).toBe(false);
      expect(may(node, ingress, 3000)).toBe(false);
      expect(may(debug, init, 6379)).toBe(false);
    });
  });
}
