import { SEED } from "./contract.ts";

/** What the topology test files share: the namespaces and a quantity parser. */
export const APP = SEED.appNamespace;
export const MONITORING = SEED.monitoringNamespace;

/** Kubernetes memory quantities to bytes (the subset these manifests use). */
export function bytes(quantity: string): number {
  const match = /^(\d+)(Ki|Mi|Gi|k|M|G|kb|mb|gb)?$/i.exec(quantity);
  if (!match) throw new Error(`unparsed quantity ${quantity}`);
  const unit = (match[2] ?? "").toLowerCase();
  const factor = {
    "": 1,
    ki: 1024,
    mi: 1024 ** 2,
    gi: 1024 ** 3,
    k: 1e3,
    m: 1e6,
    g: 1e9,
    kb: 1024,
    mb: 1024 ** 2,
    gb: 1024 ** 3,
  }[unit]!;
  return Number(match[1]) * factor;
}
