/**
 * Renders the Kustomize overlays with `kubectl kustomize`, offline. The kustomize/ tree is copied to a
 * temporary folder first so the tests can add what a user adds by hand (throwaway staging/prod secret
 * files) and the optional component on top of prod, without touching the work tree.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve, sep } from "node:path";
import { parseAllDocuments } from "yaml";

export const REPO = resolve(import.meta.dir, "../..");
export const KUSTOMIZE = join(REPO, "kustomize");
export const OVERLAYS = ["local", "staging", "prod"] as const;
/** Renderings with the Redis Cluster component on, as docs/deploy.md tells a user to turn it on. */
export const CLUSTER_VARIANTS = ["prod-cluster", "local-cluster"] as const;
/** Every rendering the tests check: the three overlays, prod with the KEDA component, and the cluster ones. */
export const VARIANTS = [...OVERLAYS, "prod-keda", ...CLUSTER_VARIANTS] as const;
export type Variant = (typeof VARIANTS)[number];
export const KEDA_COMPONENT = "components/keda-proxy-autoscaling";
export const CLUSTER_COMPONENT = "components/redis-cluster";
export const isCluster = (variant: Variant) => (CLUSTER_VARIANTS as readonly string[]).includes(variant);
/** The Redis workload (and its Service and NetworkPolicy) of a variant. */
export const redisName = (variant: Variant) => (isCluster(variant) ? "redis-cluster" : "redis");
/** Overlays whose credentials come from files that are never committed. */
export const SECRET_OVERLAYS = ["staging", "prod"] as const;
export const SECRET_FILES = ["redis.env", "grafana.env"] as const;
/** The keys of the redis-auth Secret: one password per Redis ACL user (kustomize/base/redis/users.acl.template). */
export const REDIS_PASSWORD_KEYS = [
  "REDIS_ADMIN_PASSWORD",
  "REDIS_INGRESS_PASSWORD",
  "REDIS_PROXY_PASSWORD",
  "REDIS_EXPORTER_PASSWORD",
  "REDIS_KEDA_PASSWORD",
] as const;

// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are arbitrary JSON; the tests check them field by field.
export type K8sObject = any;

export interface RenderResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

let workspace: string | undefined;

/** A private copy of kustomize/ with dummy secrets and the prod-keda overlay; created once per run. */
export function kustomizeCopy(): string {
  if (workspace) return workspace;
  const root = mkdtempSync(join(tmpdir(), "rsd-deploy-"));
  process.on("exit", () => rmSync(root, { recursive: true, force: true }));
  const copy = join(root, "kustomize");
  // Never copy real credentials a developer created in the work tree.
  cpSync(KUSTOMIZE, copy, { recursive: true, filter: (source) => !isLocalSecret(source) });
  for (const overlay of SECRET_OVERLAYS) {
    const dir = join(copy, "overlays", overlay, "secrets");
    writeFileSync(
      join(dir, "redis.env"),
      REDIS_PASSWORD_KEYS.map((key, index) => `${key}=${index}123456789abcdef0123456789abcdef\n`).join(""),
    );
    writeFileSync(join(dir, "grafana.env"), "GF_SECURITY_ADMIN_PASSWORD=test-only\n");
  }
  // What docs/deploy.md tells a user to write to turn the component on.
  mkdirSync(join(copy, "overlays", "prod-keda"));
  writeFileSync(
    join(copy, "overlays", "prod-keda", "kustomization.yaml"),
    [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources:",
      "  - ../prod",
      "components:",
      `  - ../../${KEDA_COMPONENT}`,
      "",
    ].join("\n"),
  );
  // prod with its commented `components:` line for the cluster turned on (docs/deploy.md), and local
  // with the component added: both keep their own patches, which must still apply.
  const prodCluster = join(copy, "overlays", "prod-cluster");
  cpSync(join(copy, "overlays", "prod"), prodCluster, { recursive: true });
  const prodText = readFileSync(join(prodCluster, "kustomization.yaml"), "utf8");
  const commented = `# components:\n#   - ../../${CLUSTER_COMPONENT}\n`;
  if (!prodText.includes(commented))
    throw new Error(`overlays/prod/kustomization.yaml lost its commented line for ${CLUSTER_COMPONENT}`);
  writeFileSync(
    join(prodCluster, "kustomization.yaml"),
    prodText.replace(commented, `components:\n  - ../../${CLUSTER_COMPONENT}\n`),
  );
  const localCluster = join(copy, "overlays", "local-cluster");
  cpSync(join(copy, "overlays", "local"), localCluster, { recursive: true });
  const localText = readFileSync(join(localCluster, "kustomization.yaml"), "utf8");
  writeFileSync(
    join(localCluster, "kustomization.yaml"),
    `${localText}components:\n  - ../../${CLUSTER_COMPONENT}\n`,
  );
  workspace = copy;
  return copy;
}

function isLocalSecret(path: string): boolean {
  const parts = path.split(sep);
  const name = basename(path);
  return parts.at(-2) === "secrets" && name !== ".gitignore" && !name.endsWith(".example");
}

/** `kubectl kustomize <dir>`; dir is relative to the kustomize/ copy unless absolute. */
export function kustomize(dir: string): RenderResult {
  const target = dir.startsWith("/") ? dir : join(kustomizeCopy(), dir);
  if (!Bun.which("kubectl"))
    throw new Error("kubectl (with its built-in kustomize) is not on PATH; tests/deploy needs it");
  const result = Bun.spawnSync(["kubectl", "kustomize", target], { stdout: "pipe", stderr: "pipe" });
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

const rendered = new Map<Variant, K8sObject[]>();

/** The objects of one variant; throws on any error or warning (stderr), so every test sees it. */
export function render(variant: Variant): K8sObject[] {
  const cached = rendered.get(variant);
  if (cached) return cached;
  const result = kustomize(`overlays/${variant}`);
  if (result.exitCode !== 0 || result.stderr.trim() !== "") {
    throw new Error(`kubectl kustomize overlays/${variant} failed (${result.exitCode}):\n${result.stderr}`);
  }
  const objects = parseAllDocuments(result.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`overlays/${variant}: ${doc.errors[0]?.message}`);
    return doc.toJSON() as K8sObject;
  });
  rendered.set(variant, objects);
  return objects;
}

export const find = (objects: K8sObject[], kind: string, name: string, namespace?: string) =>
  objects.find(
    (o) =>
      o.kind === kind &&
      o.metadata.name === name &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );

/** Like find, but fails with a readable message when absent. */
export function get(objects: K8sObject[], kind: string, name: string, namespace?: string): K8sObject {
  const object = find(objects, kind, name, namespace);
  if (!object) throw new Error(`${kind} ${namespace ?? "*"}/${name} is not rendered`);
  return object;
}

/** Generated ConfigMaps and Secrets carry a hash suffix; this finds them by their base name. */
export function generated(
  objects: K8sObject[],
  kind: "ConfigMap" | "Secret",
  baseName: string,
  namespace: string,
) {
  return get(
    objects,
    kind,
    objects.find(
      (o) =>
        o.kind === kind &&
        o.metadata.namespace === namespace &&
        o.metadata.name.replace(/-[a-z0-9]{10}$/, "") === baseName,
    )?.metadata.name ?? baseName,
    namespace,
  );
}

export const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
export const workloads = (objects: K8sObject[]) => objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
/** Jobs: pods that run to completion (no probes, no selector of their own in the manifest). */
export const jobs = (objects: K8sObject[]) => objects.filter((o) => o.kind === "Job");
