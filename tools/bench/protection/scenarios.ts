import { type Answer, countStatus, drive, goodput, latencyQuantile } from "./driver.ts";
import { PROTECTION, ProtectionStack } from "./stack.ts";

export interface SweepRow {
  setting: string;
  goodputRps: number;
  p99Ms: number;
}

export interface ProtectionResult {
  sweep: SweepRow[];
  /** Seconds until the fleet limit stayed within ±50% of the knee: from start, and after the knee halved. */
  convergenceS: { start: number | null; afterHalving: number | null };
  rate: { rps: number; maxPerSecond: number; windows: number };
  storm: { deadLetters: number; callsDuringStorm: number; succeeded: number; sent: number };
  outage: { probesPerSecondMax: number; refusalP99Ms: number; refusals: number; recoveryS: number | null };
  admission: {
    mode: string;
    timeoutShare: number;
    refusalP99Ms: number;
    retryAfterShare: number;
    goodputShare: number;
  }[];
}

type Log = (line: string) => void;
const connections = 200;
const timeoutMs = 2000;

/** Each fixed setting of the sweep (terminals per proxy) and adaptive; goodput over 12 s. */
async function sweep(log: Log): Promise<{ rows: SweepRow[]; convergence: ProtectionResult["convergenceS"] }> {
  const rows: SweepRow[] = [];
  for (const terminals of [4, 8, 12, 16, 64]) {
    const stack = await ProtectionStack.start({ terminals });
    try {
      log(`protection: fixed ${terminals} × ${PROTECTION.proxies}, ${connections} connections, 12 s`);
      const { answers } = await drive({ url: stack.ingressUrl, connections, timeoutMs, durationMs: 12_000 });
      rows.push(
        row(`fixed TERMINALS=${terminals} (fleet ${terminals * PROTECTION.proxies})`, answers, 2000, 12_000),
      );
    } finally {
      await stack.stop();
    }
  }
  const stack = await ProtectionStack.start({ proxyEnv: { CONCURRENCY_LIMIT: "adaptive" } });
  try {
    log("protection: adaptive, 12 s at knee 16, then 12 s at knee 8");
    const limits: [number, number][] = [];
    const startedAt = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        limits.push([Date.now() - startedAt, await stack.proxyMetric("rsd_proxy_concurrency_limit")]);
        await Bun.sleep(250);
      }
    })();
    const halve = setTimeout(() => void stack.admin("settings", { knee: PROTECTION.knee / 2 }), 12_000);
    const { answers } = await drive({ url: stack.ingressUrl, connections, timeoutMs, durationMs: 24_000 });
    clearTimeout(halve);
    sampling = false;
    await sampler;
    rows.push(row("adaptive (knee 16)", answers, 4000, 12_000));
    rows.push(row("adaptive (after the knee halved to 8)", answers, 16_000, 24_000));
    return {
      rows,
      convergence: {
        start: settledAfter(limits, 0, 12_000, PROTECTION.knee),
        afterHalving: settledAfter(limits, 12_000, 24_000, PROTECTION.knee / 2),
      },
    };
  } finally {
    await stack.stop();
  }
}

function row(setting: string, answers: Answer[], fromMs: number, toMs: number): SweepRow {
  const window = answers.filter((a) => a.sentAt >= fromMs && a.sentAt < toMs);
  return {
    setting,
    goodputRps: goodput(answers, timeoutMs, fromMs, toMs),
    p99Ms: latencyQuantile(window, 200, 0.99),
  };
}

/** Seconds from `fromMs` after which every sample up to `toMs` is within ±25% of `knee`. */
function settledAfter(
  samples: [number, number][],
  fromMs: number,
  toMs: number,
  knee: number,
): number | null {
  const phase = samples.filter(([at]) => at >= fromMs && at < toMs);
  let settled: number | null = null;
  for (const [at, limit] of phase) {
    const inside = limit >= knee * 0.75 && limit <= knee * 1.25;
    if (!inside) settled = null;
    else settled ??= at;
  }
  return settled === null ? null : (settled - fromMs) / 1000;
}

async function rateLimit(log: Log): Promise<ProtectionResult["rate"]> {
  const rps = 50;
  const stack = await ProtectionStack.start({
    proxyEnv: { RATE_LIMIT_RPS: String(rps), RATE_LIMIT_BURST: "1" },
  });
  try {
    log(`protection: RATE_LIMIT_RPS=${rps}, ${connections} connections, 10 s`);
    await drive({ url: stack.ingressUrl, connections, timeoutMs: 30_000, durationMs: 10_000 });
    const windows = (await stack.stats()).perSecond.slice(1, -1).map(([, calls]) => calls);
    return { rps, maxPerSecond: Math.max(0, ...windows), windows: windows.length };
  } finally {
    await stack.stop();
  }
}

async function storm(log: Log): Promise<ProtectionResult["storm"]> {
  // Terminals at the knee (no 500s of its own), and requests that queue through the pauses
  // (ADMISSION=depth: predictive admission would refuse them while nothing drains).
  const stack = await ProtectionStack.start({
    terminals: PROTECTION.knee / PROTECTION.proxies,
    proxyEnv: { BACKEND_PAUSE: "on" },
    ingressEnv: { ADMISSION: "depth" },
  });
  try {
    log("protection: 429 storm (Retry-After: 2 for 3 s), 100 connections, 8 s");
    const run = drive({ url: stack.ingressUrl, connections: 100, timeoutMs: 20_000, durationMs: 8_000 });
    await Bun.sleep(1000);
    await stack.admin("throttle", { ms: 3000, retryAfterS: 2 });
    const { answers } = await run;
    return {
      deadLetters: stack.deadLetters(),
      callsDuringStorm: (await stack.stats()).byKind.throttled ?? 0,
      succeeded: countStatus(answers, 200),
      sent: answers.length,
    };
  } finally {
    await stack.stop();
  }
}

async function outage(log: Log): Promise<ProtectionResult["outage"]> {
  // A 1 s window: a fixed window full of successes from before the outage would delay the opening
  // by up to its length (docs/architecture.md, "Circuit breaker").
  const breaker = {
    BREAKER: "on",
    BREAKER_OPEN_MS: "1000",
    BREAKER_MIN_CALLS: "20",
    BREAKER_WINDOW_MS: "1000",
  };
  const stack = await ProtectionStack.start({ env: breaker, terminals: 8 });
  try {
    log("protection: 5 s outage with BREAKER=on, 100 connections, 12 s");
    const run = drive({ url: stack.ingressUrl, connections: 100, timeoutMs: 2000, durationMs: 12_000 });
    await Bun.sleep(2000);
    await stack.admin("outage", { ms: 5000 });
    const outageAt = Date.now();
    const { answers, startedAt } = await run;
    const endMs = outageAt - startedAt + 5000;
    const perSecond = (await stack.stats()).perSecond;
    // Calls per second while the outage lasted, after its first second (the breaker's opening).
    const during = perSecond.filter(
      ([second]) => second * 1000 >= outageAt + 1000 && second * 1000 < outageAt + 5000,
    );
    const firstOk = Math.min(
      ...answers.filter((a) => a.status === 200 && a.doneAt >= endMs).map((a) => a.doneAt),
    );
    const refusals = answers.filter((a) => a.status === 503);
    return {
      probesPerSecondMax: Math.max(0, ...during.map(([, calls]) => calls)),
      refusalP99Ms: latencyQuantile(refusals, 503, 0.99),
      refusals: refusals.length,
      recoveryS: Number.isFinite(firstOk) ? (firstOk - endMs) / 1000 : null,
    };
  } finally {
    await stack.stop();
  }
}

/**
 * Overload: the stack's capacity is measured first (closed loop, 4 s), then 3× that is offered
 * open loop for 10 s with a 1 s deadline; the first 2 s of the overload are not counted.
 */
async function overload(log: Log): Promise<ProtectionResult["admission"]> {
  const rows: ProtectionResult["admission"] = [];
  for (const mode of ["predictive", "depth"]) {
    const stack = await ProtectionStack.start({
      terminals: 4,
      ingressEnv: { ADMISSION: mode },
      backendArgs: ["--noise", "0"],
    });
    try {
      const calibration = await drive({
        url: stack.ingressUrl,
        connections: 16,
        timeoutMs: 10_000,
        durationMs: 4000,
      });
      const capacity = goodput(calibration.answers, 10_000, 1000, 4000);
      log(
        `protection: overload ${Math.round(capacity * 3)} req/s against ${Math.round(capacity)}, ADMISSION=${mode}, 10 s`,
      );
      const { answers } = await drive({
        url: stack.ingressUrl,
        rate: capacity * 3,
        timeoutMs: 1000,
        durationMs: 10_000,
      });
      const measured = answers.filter((a) => a.sentAt >= 2000);
      const refusals = measured.filter((a) => a.status === 503);
      rows.push({
        mode,
        timeoutShare: countStatus(measured, 504) / Math.max(1, measured.length),
        refusalP99Ms: latencyQuantile(refusals, 503, 0.99),
        retryAfterShare: refusals.filter((a) => a.retryAfter !== null).length / Math.max(1, refusals.length),
        goodputShare: goodput(answers, 1000, 2000, 10_000) / capacity,
      });
    } finally {
      await stack.stop();
    }
  }
  return rows;
}

/** Every protection scenario of issue 17, about 4 minutes. */
export async function runProtection(log: Log): Promise<ProtectionResult> {
  const { rows, convergence } = await sweep(log);
  return {
    sweep: rows,
    convergenceS: convergence,
    rate: await rateLimit(log),
    storm: await storm(log),
    outage: await outage(log),
    admission: await overload(log),
  };
}
