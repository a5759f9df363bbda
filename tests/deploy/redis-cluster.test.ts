import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";
import { SEED } from "./contract.ts";
import {
  CLUSTER_COMPONENT,
  CLUSTER_VARIANTS,
  find,
  generated,
  get,
  jobs,
  type K8sObject,
  KUSTOMIZE,
  kustomize,
  kustomizeCopy,
  render,
} from "./kustomize.ts";
import { container, containers, effectiveEnv, podSpec } from "./pods.ts";
import { allowed, type Pod, podsOf } from "./selectors.ts";

const APP = SEED.appNamespace;
const COMPONENT = join(KUSTOMIZE, CLUSTER_COMPONENT);
const componentFile = (name: string) => readFileSync(join(COMPONENT, name), "utf8");

/** Where a file of a ConfigMap volume is inside a container: mountPath/key -> content. */
function mountedFiles(objects: K8sObject[], workload: K8sObject, c: K8sObject): Map<string, string> {
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
const directives = (conf: string) =>
  conf
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [name, ...rest] = line.split(/\s+/);
      return [name!, rest.join(" ")] as const;
    });

describe("the redis-cluster component", () => {
  test("is a Component (applies on top of any overlay), named in prod's commented components line", () => {
    const text = componentFile("kustomization.yaml");
    expect(text).toMatch(/^kind: Component$/m);
    expect(text).toMatch(/^apiVersion: kustomize\.config\.k8s\.io\/v1alpha1$/m);
    const prod = readFileSync(join(KUSTOMIZE, "overlays/prod/kustomization.yaml"), "utf8");
    expect(prod).toContain(`# components:\n#   - ../../${CLUSTER_COMPONENT}\n`);
  });

  test("also renders as an overlay of its own on top of prod, without warnings", () => {
    const dir = join(kustomizeCopy(), "overlays", "prod-cluster-on-top");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "kustomization.yaml"),
      `resources: [../prod]\ncomponents: [../../${CLUSTER_COMPONENT}]\n`,
    );
    const result = kustomize(dir);
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("name: redis-cluster-init");
  });
});

for (const variant of CLUSTER_VARIANTS) {
  describe(`overlays/${variant}: a Redis Cluster replaces the single Redis`, () => {
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

    test("the single Redis StatefulSet, Service and NetworkPolicy are gone; its ConfigMap stays for the nodes", () => {
      for (const kind of ["StatefulSet", "Service", "NetworkPolicy"])
        expect({ kind, found: find(objects(), kind, "redis", APP) }).toEqual({ kind, found: undefined });
      const redisConfig = generated(objects(), "ConfigMap", "redis-config", APP);
      const volumes = podSpec(statefulSet()).volumes.map((v: K8sObject) => v.configMap?.name);
      expect(volumes).toContain(redisConfig.metadata.name);
      // Nothing still points at the old Service by name.
      const text = JSON.stringify(objects());
      expect(text).not.toMatch(/@redis:6379|"redis\.redis-stream-demo/);
    });

    test("6 nodes (3 masters + 3 replicas), a headless governing Service with named client and bus ports", () => {
      const sts = statefulSet();
      expect(sts.spec.replicas).toBe(6);
      const headless = get(objects(), "Service", sts.spec.serviceName, APP);
      expect(headless.spec.clusterIP).toBe("None");
      // The init Job must resolve the nodes before the cluster exists (and they are ready).
      expect(headless.spec.publishNotReadyAddresses).toBe(true);
      expect(headless.spec.selector).toEqual(sts.spec.selector.matchLabels);
      expect(container(sts, "redis").ports).toEqual([
        { name: "redis", containerPort: 6379, protocol: "TCP" },
        { name: "cluster-bus", containerPort: 16379, protocol: "TCP" },
      ]);
      expect(headless.spec.ports.map((p: K8sObject) => [p.name, p.port, p.targetPort])).toEqual([
        ["redis", 6379, "redis"],
        ["cluster-bus", 16379, "cluster-bus"],
      ]);
      const service = get(objects(), "Service", "redis-cluster", APP);
      expect(service.spec.type).toBe("ClusterIP");
      expect(service.spec.selector).toEqual(sts.spec.selector.matchLabels);
    });

    test("each node: cluster mode, nodes.conf and the AOF on the PVC, noeviction, the base's ACL users", () => {
      const sts = statefulSet();
      const redis = container(sts, "redis");
      const files = mountedFiles(objects(), sts, redis);
      const confPath = redis.args[0];
      const conf = files.get(confPath);
      expect(conf).toBe(componentFile("redis-cluster.conf"));
      const settings = new Map<string, string>();
      for (const [name, value] of directives(conf!)) {
        if (name === "include") {
          // Every included file is there: the base's redis.conf (mounted) or the rendered login.
          const included = files.get(value);
          if (included !== undefined) for (const [n, v] of directives(included)) settings.set(n!, v);
          else expect(value).toStartWith("/run/redis-acl/");
        } else settings.set(name, value);
      }
      expect(settings.get("cluster-enabled")).toBe("yes");
      expect(settings.get("appendonly")).toBe("yes");
      expect(settings.get("maxmemory-policy")).toBe("noeviction");
      expect(settings.get("cluster-require-full-coverage")).toBe("no");
      const [claim] = sts.spec.volumeClaimTemplates;
      const dataMount = redis.volumeMounts.find((m: { name: string }) => m.name === claim.metadata.name);
      expect(settings.get("cluster-config-file")).toStartWith(`${dataMount.mountPath}/`);
      expect(settings.get("dir")).toBe(dataMount.mountPath);
      // Same ACL users as the single Redis: the base's template, rendered by the base's script.
      const aclFile = redis.args[redis.args.indexOf("--aclfile") + 1];
      const init = podSpec(sts).initContainers.find((c: { name: string }) => c.name === "render-acl");
      const initFiles = mountedFiles(objects(), sts, init);
      const script = init.command.join(" ");
      expect(script).toContain(`render-acl.sh /etc/redis/users.acl.template ${aclFile}`);
      expect(initFiles.get("/etc/redis/render-acl.sh")).toBe(
        readFileSync(join(KUSTOMIZE, "base/redis/render-acl.sh"), "utf8"),
      );
      expect(initFiles.get("/etc/redis/users.acl.template")).toBe(
        readFileSync(join(KUSTOMIZE, "base/redis/users.acl.template"), "utf8"),
      );
      // And the replication login the config includes, on the same memory volume.
      const replication = directives(conf!).find(([n, v]) => n === "include" && v.startsWith("/run/"))![1];
      expect(script).toContain(`render-replication-auth.sh ${replication}`);
      const acl = podSpec(sts).volumes.find((v: { name: string }) => v.name === "acl");
      expect(acl.emptyDir.medium).toBe("Memory");
      expect(redis.args).not.toContain("--requirepass");
      expect(redis.args).not.toContain("--masterauth");
      expect(redis.args[redis.args.indexOf("--maxmemory") + 1]).toMatch(/^\d+(mb|gb)$/);
    });

    test("every node has its exporter sidecar, scraped through its named port", () => {
      const sts = statefulSet();
      const exporter = container(sts, "redis-exporter");
      expect(exporter.image).toStartWith("oliver006/redis_exporter:");
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_ADDR").value).toBe(
        "redis://127.0.0.1:6379",
      );
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_USER").value).toBe("exporter");
      expect(sts.spec.template.metadata.annotations["prometheus.io/port"]).toBe("9121");
      expect(exporter.ports).toEqual([{ name: "http-metrics", containerPort: 9121, protocol: "TCP" }]);
    });

    test("a PodDisruptionBudget lets one node go at a time", () => {
      const pdb = get(objects(), "PodDisruptionBudget", "redis-cluster", APP);
      expect(pdb.spec.maxUnavailable).toBe(1);
      expect(pdb.spec.selector).toEqual(statefulSet().spec.selector);
    });

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

test("prod-cluster keeps prod's Redis sizing, per node", () => {
  const sts = get(render("prod-cluster"), "StatefulSet", "redis-cluster", APP);
  const single = get(render("prod"), "StatefulSet", "redis", APP);
  const args = (w: K8sObject) => container(w, "redis").args as string[];
  const maxmemory = (w: K8sObject) => args(w)[args(w).indexOf("--maxmemory") + 1];
  expect(maxmemory(sts)).toBe(maxmemory(single));
  expect(container(sts, "redis").resources).toEqual(container(single, "redis").resources);
  expect(sts.spec.volumeClaimTemplates[0].spec).toEqual(single.spec.volumeClaimTemplates[0].spec);
});

// The node config, the replication login and the init script, run for real on local redis-servers:
// 6 nodes from the component's redis-cluster.conf (paths moved to a temp folder), the ACL file the base
// renders, then cluster-init.sh twice (it creates the cluster, then finds it and changes nothing).
describe("cluster-init.sh and redis-cluster.conf on real Redis nodes", () => {
  const ADMIN = "test-admin-password";
  const root = mkdtempSync(join(tmpdir(), "rsd-cluster-init-"));
  const ports: number[] = [];
  const servers: ReturnType<typeof Bun.spawn>[] = [];
  const env = {
    ...process.env,
    REDIS_ADMIN_PASSWORD: ADMIN,
    REDIS_INGRESS_PASSWORD: "i",
    REDIS_PROXY_PASSWORD: "p",
    REDIS_EXPORTER_PASSWORD: "e",
    REDIS_KEDA_PASSWORD: "k",
    REDISCLI_AUTH: ADMIN,
  };
  const run = (cmd: string[], extra: Record<string, string> = {}) =>
    Bun.spawnSync(cmd, { env: { ...env, ...extra }, stdout: "pipe", stderr: "pipe" });
  const cli = (port: number, ...args: string[]) =>
    run(["redis-cli", "--user", "admin", "-p", String(port), ...args]).stdout.toString();

  beforeAll(async () => {
    const acl = join(root, "run");
    mkdirSync(acl);
    const rendered = run([
      "sh",
      join(KUSTOMIZE, "base/redis/render-acl.sh"),
      join(KUSTOMIZE, "base/redis/users.acl.template"),
      join(acl, "users.acl"),
    ]);
    expect(rendered.stderr.toString()).toBe("");
    const login = run(["sh", join(COMPONENT, "render-replication-auth.sh"), join(acl, "replication.conf")]);
    expect(login.exitCode).toBe(0);
    // Ports (and bus ports) the kernel says are free, never a fixed range that may be in use.
    const taken = new Set<number>();
    const pick = async () => {
      let port = await freePort();
      while (taken.has(port)) port = await freePort();
      taken.add(port);
      return port;
    };
    for (let n = 0; n < 6; n++) {
      const port = await pick();
      const busPort = await pick();
      // Each node in its own folder, standing for its PVC (/data) and its config mounts.
      const dir = join(root, `node-${n}`);
      mkdirSync(dir);
      writeFileSync(
        join(dir, "redis.conf"),
        readFileSync(join(KUSTOMIZE, "base/redis/redis.conf"), "utf8").replace(/^dir \/data$/m, `dir ${dir}`),
      );
      const conf = join(dir, "redis-cluster.conf");
      writeFileSync(
        conf,
        `${componentFile("redis-cluster.conf")
          .replaceAll("/etc/redis/", `${dir}/`)
          .replaceAll("/run/redis-acl/", `${acl}/`)
          .replaceAll("/data/", `${dir}/`)}\nport ${port}\ncluster-port ${busPort}\n`,
      );
      servers.push(
        Bun.spawn(["redis-server", conf, "--aclfile", join(acl, "users.acl"), "--maxmemory", "64mb"], {
          stdout: "ignore",
          stderr: "ignore",
        }),
      );
      ports.push(port);
    }
    // Every node answers before the init script runs (its own wait is the Kubernetes one).
    await waitFor(
      "the six redis-server nodes to answer",
      () => ports.every((port) => cli(port, "ping").includes("PONG")),
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  }, 60_000);

  afterAll(() => {
    for (const server of servers) server.kill();
    rmSync(root, { recursive: true, force: true });
  });

  test("the first run forms 3 masters with a replica each; a second run exits 0 and changes nothing", async () => {
    const nodes = ports.map((p) => `127.0.0.1:${p}`).join(" ");
    const first = run(["sh", join(COMPONENT, "cluster-init.sh")], {
      CLUSTER_NODES: nodes,
      CLUSTER_REPLICAS: "1",
      CLUSTER_WAIT_S: "10",
    });
    expect(first.stderr.toString()).not.toContain("ERR");
    expect(first.exitCode).toBe(0);
    expect(first.stdout.toString()).toContain("cluster-init: cluster created");
    const deadline = Date.now() + 30_000;
    let info = "";
    // Replicas log in to their masters with the rendered replication login (the default user is off).
    let replicasUp = 0;
    while (Date.now() < deadline) {
      info = cli(ports[0]!, "cluster", "info");
      replicasUp = ports.filter((p) =>
        cli(p, "info", "replication").includes("master_link_status:up"),
      ).length;
      if (info.includes("cluster_state:ok") && replicasUp === 3) break;
      await Bun.sleep(250);
    }
    expect(info).toContain("cluster_state:ok");
    expect(info).toContain("cluster_size:3");
    expect(replicasUp).toBe(3);
    const before = cli(ports[0]!, "cluster", "myid");
    const second = run(["sh", join(COMPONENT, "cluster-init.sh")], {
      CLUSTER_NODES: nodes,
      CLUSTER_WAIT_S: "10",
    });
    expect(second.exitCode).toBe(0);
    expect(second.stdout.toString()).toContain("already exists");
    expect(cli(ports[0]!, "cluster", "myid")).toBe(before);
    expect(cli(ports[0]!, "cluster", "info")).toContain("cluster_state:ok");
  }, 60_000);
});
