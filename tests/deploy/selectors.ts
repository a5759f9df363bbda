/**
 * Label selectors and NetworkPolicy semantics, enough to ask "may pod A reach pod B on port P?" of a
 * rendered overlay, without a cluster.
 */
import type { K8sObject } from "./kustomize.ts";
import { jobs, workloads } from "./kustomize.ts";

export type Labels = Record<string, string>;
export interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: {
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }[];
}

/** Kubernetes semantics: an empty selector selects everything. */
export function selects(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = key in labels;
    const ok =
      operator === "In"
        ? has && values.includes(labels[key]!)
        : operator === "NotIn"
          ? !has || !values.includes(labels[key]!)
          : operator === "Exists"
            ? has
            : !has;
    if (!ok) return false;
  }
  return true;
}

/** A pod as the tests reason about it: where it runs, its labels, its named container ports. */
export interface Pod {
  namespace: string;
  labels: Labels;
  ports: { name?: string; containerPort: number }[];
  /** The workload it belongs to, `kind/name`, or a made-up name for pods outside the manifests. */
  owner: string;
}

/** The pods of every workload and Job (a Job's pods are subject to the same NetworkPolicies). */
export function podsOf(objects: K8sObject[]): Pod[] {
  return [...workloads(objects), ...jobs(objects)].map((w) => ({
    namespace: w.metadata.namespace,
    labels: w.spec.template.metadata.labels ?? {},
    ports: w.spec.template.spec.containers.flatMap((c: { ports?: Pod["ports"] }) => c.ports ?? []),
    owner: `${w.kind}/${w.metadata.name}`,
  }));
}

/** Namespaces carry kubernetes.io/metadata.name automatically (Kubernetes >= 1.21). */
export const namespaceLabels = (namespace: string, extra: Labels = {}): Labels => ({
  "kubernetes.io/metadata.name": namespace,
  ...extra,
});

interface Peer {
  podSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  ipBlock?: unknown;
}
interface PolicyPort {
  port?: number | string;
  protocol?: string;
}

function peerMatches(peer: Peer, policyNamespace: string, pod: Pod): boolean {
  if (peer.ipBlock) return false;
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, namespaceLabels(pod.namespace))
    : pod.namespace === policyNamespace;
  return namespaceOk && selects(peer.podSelector, pod.labels);
}

function portMatches(ports: PolicyPort[] | undefined, destination: Pod, port: number): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? "TCP") !== "TCP") return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return p.port === port;
    // A named port means the destination pod's container port of that name.
    return destination.ports.some((cp) => cp.name === p.port && cp.containerPort === port);
  });
}

const policiesFor = (objects: K8sObject[], pod: Pod, type: "Ingress" | "Egress") =>
  objects.filter(
    (o) =>
      o.kind === "NetworkPolicy" &&
      o.metadata.namespace === pod.namespace &&
      selects(o.spec.podSelector, pod.labels) &&
      (o.spec.policyTypes ?? ["Ingress"]).includes(type),
  );

/** Whether a TCP connection from `from` to `to`:`port` is allowed by both sides' policies. */
export function allowed(objects: K8sObject[], from: Pod, to: Pod, port: number): boolean {
  const ingress = policiesFor(objects, to, "Ingress");
  const ingressOk =
    ingress.length === 0 ||
    ingress.some((policy) =>
      (policy.spec.ingress ?? []).some(
        (rule: { from?: Peer[]; ports?: PolicyPort[] }) =>
          (!rule.from || rule.from.some((peer) => peerMatches(peer, policy.metadata.namespace, from))) &&
          portMatches(rule.ports, to, port),
      ),
    );
  const egress = policiesFor(objects, from, "Egress");
  const egressOk =
    egress.length === 0 ||
    egress.some((policy) =>
      (policy.spec.egress ?? []).some(
        (rule: { to?: Peer[]; ports?: PolicyPort[] }) =>
          (!rule.to || rule.to.some((peer) => peerMatches(peer, policy.metadata.namespace, to))) &&
          portMatches(rule.ports, to, port),
      ),
    );
  return ingressOk && egressOk;
}
