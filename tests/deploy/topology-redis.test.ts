import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  generated,
  get,
  type K8sObject,
  KUSTOMIZE,
  OVERLAYS,
  REDIS_PASSWORD_KEYS,
  render,
} from "./kustomize.ts";
import { container, podSpec } from "./pods.ts";
import { APP, bytes } from "./topology.ts";

describe("Redis keeps the queue", () => {
  const conf = readFileSync(join(KUSTOMIZE, "base/redis/redis.conf"), "utf8");

  test("append-only persistence and no eviction, from the mounted config", () => {
    expect(conf).toMatch(/^appendonly yes$/m);
    expect(conf).toMatch(/^maxmemory-policy noeviction$/m);
    for (const overlay of OVERLAYS) {
      const objects = render(overlay);
      const configMap = generated(objects, "ConfigMap", "redis-config", APP);
      expect(configMap.data["redis.conf"]).toBe(conf);
      const statefulSet = get(objects, "StatefulSet", "redis", APP);
      const redis = container(statefulSet, "redis");
      const volume = podSpec(statefulSet).volumes.find(
        (v: K8sObject) => v.configMap?.name === configMap.metadata.name,
      );
      const mount = redis.volumeMounts.find((m: { name: string }) => m.name === volume.name);
      expect(redis.args[0]).toBe(`${mount.mountPath}/redis.conf`);
    }
  });

  for (const overlay of OVERLAYS) {
    test(`${overlay}: data on a PersistentVolumeClaim, maxmemory below the memory limit, password from the Secret`, () => {
      const statefulSet = get(render(overlay), "StatefulSet", "redis", APP);
      const redis = container(statefulSet, "redis");
      const [claim] = statefulSet.spec.volumeClaimTemplates;
      expect(redis.volumeMounts).toContainEqual({ name: claim.metadata.name, mountPath: "/data" });
      expect(claim.spec.resources.requests.storage).toBeDefined();
      const args: string[] = redis.args;
      const maxmemory = args[args.indexOf("--maxmemory") + 1]!;
      expect(args.indexOf("--maxmemory")).toBeGreaterThan(0);
      // Redis refuses writes at maxmemory; the kernel must not kill it first.
      expect(bytes(maxmemory)).toBeLessThan(bytes(redis.resources.limits.memory) * 0.8);
      // Users, not one password: the ACL file the init container renders from the Secret.
      expect(args).not.toContain("--requirepass");
      const aclFile = args[args.indexOf("--aclfile") + 1]!;
      const renderAcl = podSpec(statefulSet).initContainers.find(
        (c: { name: string }) => c.name === "render-acl",
      );
      expect(renderAcl.command).toEqual([
        "sh",
        "/etc/redis/render-acl.sh",
        "/etc/redis/users.acl.template",
        aclFile,
      ]);
      expect(renderAcl.image).toBe(redis.image);
      // The generated Secret carries a content hash in its name.
      const redisAuth = expect.stringMatching(/^redis-auth(-[a-z0-9]+)?$/);
      const secretKey = (c: K8sObject, name: string) =>
        c.env.find((e: { name: string }) => e.name === name)?.valueFrom?.secretKeyRef;
      for (const key of REDIS_PASSWORD_KEYS)
        expect(secretKey(renderAcl, key)).toEqual({ name: redisAuth, key });
      // The rendered file is on a memory volume that only the init container may write.
      const aclMount = (c: K8sObject) =>
        c.volumeMounts.find((m: { mountPath: string }) => aclFile.startsWith(`${m.mountPath}/`));
      expect(aclMount(redis).readOnly).toBe(true);
      const aclVolume = statefulSet.spec.template.spec.volumes.find(
        (v: { name: string }) => v.name === aclMount(renderAcl).name,
      );
      expect(aclVolume.emptyDir.medium).toBe("Memory");
      // Probes and operators use redis-cli as admin; the exporter has its own user.
      expect(secretKey(redis, "REDISCLI_AUTH")).toEqual({ name: redisAuth, key: "REDIS_ADMIN_PASSWORD" });
      expect(redis.readinessProbe.exec.command.join(" ")).toContain("redis-cli --user admin ping");
      const exporter = container(statefulSet, "redis-exporter");
      expect(exporter.image).toStartWith("oliver006/redis_exporter:");
      expect(exporter.env.find((e: { name: string }) => e.name === "REDIS_USER").value).toBe("exporter");
      expect(secretKey(exporter, "REDIS_PASSWORD")).toEqual({
        name: redisAuth,
        key: "REDIS_EXPORTER_PASSWORD",
      });
      expect(redis.image).toMatch(/^redis:(7|8)\./);
    });
  }
});
