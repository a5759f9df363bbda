import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";
import { KUSTOMIZE } from "./kustomize.ts";
import { COMPONENT, componentFile } from "./redis-cluster.ts";

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

  afterAll(async () => {
    // SIGKILL and wait: on SIGTERM a node saves its data first, and once the folder below is gone
    // that save fails and redis-server refuses to exit, leaving the node running after the test.
    for (const server of servers) server.kill("SIGKILL");
    await Promise.all(servers.map((server) => server.exited));
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
