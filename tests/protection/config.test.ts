import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadIngressConfig, loadProxyConfig } from "@rsd/shared";

const root = resolve(import.meta.dir, "../..");

describe("protection variables", () => {
  test("everything is off by default (ADMISSION is predictive)", () => {
    expect(loadProxyConfig({}).protection).toEqual({
      concurrencyLimit: "fixed",
      minTerminals: 1,
      rateLimitRps: 0,
      rateLimitBurst: 1,
      backendPause: false,
      breaker: undefined,
    });
    expect(loadIngressConfig({})).toMatchObject({ breaker: false, admission: "predictive" });
    expect(loadProxyConfig({ BREAKER: "on" }).protection.breaker).toEqual({
      failureRatePercent: 50,
      minCalls: 20,
      windowMs: 10_000,
      openMs: 5_000,
      probes: 3,
    });
  });

  const invalid: [string, "ingress" | "proxy", Record<string, string>][] = [
    ["CONCURRENCY_LIMIT", "proxy", { CONCURRENCY_LIMIT: "auto" }],
    ["MIN_TERMINALS", "proxy", { TERMINALS: "4", MIN_TERMINALS: "5" }],
    ["MIN_TERMINALS", "proxy", { MIN_TERMINALS: "0" }],
    ["RATE_LIMIT_RPS", "proxy", { RATE_LIMIT_RPS: "-1" }],
    ["RATE_LIMIT_RPS", "proxy", { RATE_LIMIT_RPS: "2.5" }],
    ["RATE_LIMIT_BURST", "proxy", { RATE_LIMIT_BURST: "0" }],
    ["BACKEND_PAUSE", "proxy", { BACKEND_PAUSE: "yes" }],
    ["BREAKER", "proxy", { BREAKER: "true" }],
    ["BREAKER", "ingress", { BREAKER: "1" }],
    ["BREAKER_FAILURE_RATE", "proxy", { BREAKER: "on", BREAKER_FAILURE_RATE: "101" }],
    ["BREAKER_MIN_CALLS", "proxy", { BREAKER: "on", BREAKER_MIN_CALLS: "0" }],
    ["BREAKER_WINDOW_MS", "proxy", { BREAKER: "on", BREAKER_WINDOW_MS: "99" }],
    ["BREAKER_OPEN_MS", "proxy", { BREAKER: "on", BREAKER_OPEN_MS: "x" }],
    ["BREAKER_PROBES", "proxy", { BREAKER: "on", BREAKER_PROBES: "0" }],
    ["ADMISSION", "ingress", { ADMISSION: "smart" }],
  ];
  for (const [variable, service, env] of invalid) {
    test(`${service}: ${JSON.stringify(env)} is refused naming ${variable}`, () => {
      const load = service === "proxy" ? loadProxyConfig : loadIngressConfig;
      expect(() => load(env)).toThrow(ConfigError);
      expect(() => load(env)).toThrow(variable);
    });
  }

  test("a real proxy refuses to start with a bad value: exit 2, one line naming it", () => {
    const result = Bun.spawnSync(["bun", "proxy/src/main.ts"], {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", CONCURRENCY_LIMIT: "auto" },
      timeout: 20_000,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.toString()).toContain('invalid CONCURRENCY_LIMIT="auto"');
  });
});
