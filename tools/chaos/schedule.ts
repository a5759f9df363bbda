import { between, mulberry32, pick, type Random, shuffled } from "./prng.ts";
import type { Profile } from "./profiles.ts";

export type FaultKind =
  | "proxy-kill-same-name"
  | "proxy-kill-new-name"
  | "proxy-rolling-restart"
  | "ingress-restart"
  | "redis-restart"
  | "redis-pause"
  | "backend-fail"
  | "backend-stall"
  | "burst";

export const faultKinds: readonly FaultKind[] = [
  "proxy-kill-same-name",
  "proxy-kill-new-name",
  "proxy-rolling-restart",
  "ingress-restart",
  "redis-restart",
  "redis-pause",
  "backend-fail",
  "backend-stall",
  "burst",
];

/** One planned fault: what, when (seconds after the load starts) and on which instance. */
export interface PlannedFault {
  seq: number;
  kind: FaultKind;
  atS: number;
  /** Proxy or ingress index, for the faults that have one. */
  target: number;
  /** How long a backend fault lasts. */
  holdMs: number;
}

/** What a fault competes for: two faults on the same thing are not planned at the same time. */
export function resourceOf(kind: FaultKind): string {
  if (kind.startsWith("proxy")) return "proxies";
  if (kind.startsWith("redis")) return "redis";
  if (kind.startsWith("backend")) return "backend";
  return kind;
}

/**
 * The whole fault plan, from the seed alone (no clock, no I/O), so a failing run replays exactly.
 * Slots start every `slotS` after a quiet first slot; the last one starts `tailS` before the end,
 * leaving time to recover. Each kind is used once before any is repeated; some slots get a second fault on
 * another resource (combination).
 */
export function planFaults(seed: number, profile: Profile, durationS: number): PlannedFault[] {
  const random = mulberry32(seed);
  const slots = Math.max(0, Math.floor((durationS - profile.tailS - profile.slotS) / profile.slotS) + 1);
  const plan: PlannedFault[] = [];
  let deck: FaultKind[] = [];
  const draw = (): FaultKind => {
    if (deck.length === 0) deck = shuffled(random, faultKinds);
    return deck.shift() as FaultKind;
  };
  for (let slot = 0; slot < slots; slot++) {
    const start = profile.slotS * (slot + 1);
    const first = draw();
    plan.push(fault(random, plan.length, first, start + between(random, 0, 1000) / 1000));
    if (random() < profile.overlapShare) {
      const others = faultKinds.filter((kind) => resourceOf(kind) !== resourceOf(first));
      const second = pick(random, others);
      plan.push(fault(random, plan.length, second, start + between(random, 500, 3000) / 1000));
    }
  }
  return plan;
}

function fault(random: Random, seq: number, kind: FaultKind, atS: number): PlannedFault {
  const target = kind === "ingress-restart" ? between(random, 0, 1) : between(random, 0, 2);
  const holdMs = kind === "backend-stall" ? between(random, 2_000, 4_000) : between(random, 2_000, 3_500);
  return { seq, kind, atS: Math.round(atS * 1000) / 1000, target, holdMs };
}
