/**
 * Validation of rendered objects against the Kubernetes API models, offline:
 * - kubernetes-models (and @kubernetes-models/keda) JSON schemas: types, enums, required fields;
 * - an unknown-field check, because those schemas allow extra properties and the API server would
 *   drop (or, with strict field validation, reject) a misspelt field: built-in kinds are walked along
 *   the attribute maps of @kubernetes/client-node 1.4.0 (generated from the Kubernetes 1.34 OpenAPI),
 *   the KEDA ScaledObject along the TypeScript declarations of @kubernetes-models/keda.
 */
import * as clientNode from "@kubernetes/client-node";
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Job } from "kubernetes-models/batch/v1";
import { Ingress, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from "kubernetes-models/rbac.authorization.k8s.io/v1";
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from "kubernetes-models/v1";
import ts from "typescript";
import type { K8sObject } from "./kustomize.ts";

// biome-ignore lint/suspicious/noExplicitAny: each model class takes its own data type.
type ModelClass = new (data: any) => { validate(): void };

/** The kinds these manifests may contain; anything else is a mistake until added here. */
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/PersistentVolumeClaim": PersistentVolumeClaim,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "keda.sh/v1alpha1/ScaledObject": ScaledObject,
};

/** Problems found in one object (empty when valid); each names the path of the field. */
export function validateObject(object: K8sObject): string[] {
  const key = `${object.apiVersion}/${object.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: no model known for this kind`];
  const problems: string[] = [];
  try {
    new Model(object).validate();
  } catch (error) {
    problems.push(`${key} ${object.metadata?.name}: ${(error as Error).message}`);
  }
  const unknown =
    object.apiVersion === "keda.sh/v1alpha1" ? unknownKedaFields(object) : unknownBuiltinFields(object);
  return [...problems, ...unknown.map((path) => `${key} ${object.metadata?.name}: ${path}`)];
}

// --- built-in kinds: @kubernetes/client-node attribute maps --------------------------------------

interface Attribute {
  baseName: string;
  type: string;
}
type AttributeMapped = { getAttributeTypeMap(): Attribute[] };

/** apps/v1 Deployment -> V1Deployment; autoscaling/v2 HorizontalPodAutoscaler -> V2HorizontalPodAutoscaler. */
function modelName(apiVersion: string, kind: string): string {
  const version = apiVersion.split("/").at(-1) ?? "";
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

function unknownBuiltinFields(object: K8sObject): string[] {
  const problems: string[] = [];
  walkClientNode(object, modelName(object.apiVersion, object.kind), "", problems);
  return problems;
}

function walkClientNode(value: unknown, type: string, path: string, problems: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) return void problems.push(`${path || "/"}: expected a list`);
    for (const [index, item] of value.entries())
      walkClientNode(item, array[1]!, `${path}/${index}`, problems);
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value !== "object" || Array.isArray(value))
      return void problems.push(`${path}: expected a map`);
    for (const [key, item] of Object.entries(value))
      walkClientNode(item, map[1]!, `${path}/${key}`, problems);
    return;
  }
  switch (type) {
    case "string":
      if (typeof value !== "string")
        problems.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
      return;
    case "number":
      if (typeof value !== "number")
        problems.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
      return;
    case "boolean":
      if (typeof value !== "boolean")
        problems.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
      return;
    case "IntOrString":
      if (typeof value !== "string" && typeof value !== "number")
        problems.push(`${path}: expected int or string`);
      return;
    case "Date":
    case "any":
    case "object":
      return;
  }
  const model = (clientNode as unknown as Record<string, AttributeMapped | undefined>)[type];
  if (!model?.getAttributeTypeMap) return void problems.push(`${path}: no client-node model ${type}`);
  if (typeof value !== "object" || Array.isArray(value))
    return void problems.push(`${path}: expected an object`);
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, item] of Object.entries(value)) {
    const attributeType = attributes.get(key);
    if (attributeType === undefined) problems.push(`${path}/${key}: unknown field (not in ${type})`);
    else walkClientNode(item, attributeType, `${path}/${key}`, problems);
  }
}

// --- KEDA: the TypeScript declarations of @kubernetes-models/keda ------------------------------

let kedaChecker: { checker: ts.TypeChecker; root: ts.Type; node: ts.Node } | undefined;

function kedaTypes() {
  if (kedaChecker) return kedaChecker;
  const file = Bun.resolveSync(
    "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject",
    import.meta.dir,
  ).replace(/\.js$/, ".d.ts");
  // Only the declarations and the ES5 lib: loading the project's @types (bun, node) costs seconds.
  const program = ts.createProgram([file], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    lib: ["lib.es5.d.ts"],
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const declaration = source?.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "IScaledObject",
  );
  if (!declaration) throw new Error(`IScaledObject not found in ${file}`);
  kedaChecker = { checker, root: checker.getTypeAtLocation(declaration), node: declaration };
  return kedaChecker;
}

function unknownKedaFields(object: K8sObject): string[] {
  const { checker, root, node } = kedaTypes();
  const problems: string[] = [];
  const walk = (value: unknown, type: ts.Type, path: string) => {
    if (value === null || typeof value !== "object") return;
    const concrete = checker.getNonNullableType(type);
    if (Array.isArray(value)) {
      const element = checker.getTypeArguments(concrete as ts.TypeReference)[0];
      if (element) for (const [index, item] of value.entries()) walk(item, element, `${path}/${index}`);
      return;
    }
    // A free-form map (labels, annotations, trigger metadata): keys are not fields.
    const index = checker.getIndexInfoOfType(concrete, ts.IndexKind.String);
    if (index) {
      for (const [key, item] of Object.entries(value)) walk(item, index.type, `${path}/${key}`);
      return;
    }
    const properties = new Map(checker.getPropertiesOfType(concrete).map((p) => [p.name, p]));
    if (properties.size === 0) return;
    for (const [key, item] of Object.entries(value)) {
      const property = properties.get(key);
      if (!property) problems.push(`${path}/${key}: unknown field`);
      else walk(item, checker.getTypeOfSymbolAtLocation(property, node), `${path}/${key}`);
    }
  };
  walk(object, root, "");
  return problems;
}
