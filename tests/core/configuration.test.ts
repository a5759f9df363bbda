import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { ConfigError, loadIngressConfig, loadProxyConfig } from "@rsd/shared";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

const root = resolve(import.meta.dir, "../..");

function startWith(service: "ingress" | "proxy", env: Record<string, string>) {
  const result = Bun.spawnSync(["bun", `${service}/src/main.ts`], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 20_000,
  });
  return { exitCode: result.exitCode, stderr: result.stderr.toString() };
}

describe("configuration", () => {
  test("defaults follow the contract", () => {
    const ingress = loadIngressConfig({});
    expect(ingress).toMatchObject({
      redisUrl: "redis://127.0.0.1:6379",
      streamPrefix: "rsd",
      port: 3000,
      logLevel: "info",
      maxTimeoutMs: 300_000,
      requestTimeoutMs: 30_000,
      maxQueueDepth: 10_000,
      maxBodyBytes: 1_048_576,
      resultTtlS: 3600,
    });
    const proxy = loadProxyConfig({});
    expect(proxy).toMatchObject({
      port: 3001,
      terminals: 5,
      handler: "simulate",
      processingMs: 150,
      claimIdleMs: 5000,
      maxDeliveries: 3,
      shutdownGraceMs: 25_000,
    });
  });

  const invalid: [string, "ingress" | "proxy", Record<string, string>][] = [
    ["TERMINALS", "proxy", { TERMINALS: "0" }],
    ["TERMINALS", "proxy", { TERMINALS: "1025" }],
    ["TERMINALS", "proxy", { TERMINALS: "5.5" }],
    ["PORT", "ingress", { PORT: "abc" }],
    ["PORT", "proxy", { PORT: "70000" }],
    ["REDIS_URL", "ingress", { REDIS_URL: "nope" }],
    ["REDIS_URL", "proxy", { REDIS_URL: "http://localhost:6379" }],
    ["STREAM_PREFIX", "ingress", { STREAM_PREFIX: "has space" }],
    ["LOG_LEVEL", "proxy", { LOG_LEVEL: "verbose" }],
    ["MAX_TIMEOUT_MS", "ingress", { MAX_TIMEOUT_MS: "0" }],
    ["REQUEST_TIMEOUT_MS", "ingress", { REQUEST_TIMEOUT_MS: "300001" }],
    ["MAX_QUEUE_DEPTH", "ingress", { MAX_QUEUE_DEPTH: "-1" }],
    ["MAX_BODY_BYTES", "ingress", { MAX_BODY_BYTES: "67108865" }],
    ["RESULT_TTL_S", "ingress", { RESULT_TTL_S: "0" }],
    ["HANDLER", "proxy", { HANDLER: "grpc" }],
    ["UPSTREAM_URL", "proxy", { HANDLER: "http" }],
    ["PROCESSING_MS", "proxy", { PROCESSING_MS: "-5" }],
    ["CLAIM_IDLE_MS", "proxy", { CLAIM_IDLE_MS: "99" }],
    ["MAX_DELIVERIES", "proxy", { MAX_DELIVERIES: "101" }],
    ["SHUTDOWN_GRACE_MS", "proxy", { SHUTDOWN_GRACE_MS: "soon" }],
    ["MAX_UPSTREAM_RESPONSE_BYTES", "proxy", { MAX_UPSTREAM_RESPONSE_BYTES: "0" }],
    ["MAX_REDIS_MEMORY_PERCENT", "ingress", { MAX_REDIS_MEMORY_PERCENT: "0" }],
    ["MAX_INFLIGHT", "ingress", { MAX_INFLIGHT: "0" }],
    ["DEAD_LETTER_MAX_COUNT", "proxy", { DEAD_LETTER_MAX_COUNT: "0" }],
    ["DEAD_LETTER_MAX_AGE_S", "proxy", { DEAD_LETTER_MAX_AGE_S: "59" }],
    // Smaller than one whole body: a single large request could never be taken.
    ["MAX_INFLIGHT_BYTES", "ingress", { MAX_BODY_BYTES: "2048", MAX_INFLIGHT_BYTES: "1024" }],
    ["MAX_REDIS_MEMORY_PERCENT", "ingress", { MAX_REDIS_MEMORY_PERCENT: "101" }],
    ["MAX_UPSTREAM_RESPONSE_BYTES", "proxy", { MAX_UPSTREAM_RESPONSE_BYTES: "1073741825" }],
    ["TENANT_MAX_ACTIVE", "ingress", { TENANT_MAX_ACTIVE: "-1" }],
    ["TENANT_MAX_ACTIVE", "ingress", { TENANT_MAX_ACTIVE: "10001" }],
    // Below the tenants the API keys name: some of them could never get in.
    [
      "TENANT_MAX_ACTIVE",
      "ingress",
      {
        TENANT_MAX_ACTIVE: "1",
        API_KEYS: "acme:acme-key-0123456789,globex:globex-key-0123456789,default:ops-key-0123456789",
      },
    ],
  ];
  for (const [variable, service, env] of invalid) {
    test(`${service} with ${JSON.stringify(env)} throws a ConfigError naming ${variable}`, () => {
      const load = service === "ingress" ? loadIngressConfig : loadProxyConfig;
      expect(() => load(env)).toThrow(ConfigError);
      expect(() => load(env)).toThrow(new RegExp(`^invalid ${variable}=`));
    });
  }

  for (const [variable, service, env] of [
    ["TERMINALS", "proxy", { TERMINALS: "0" }],
    ["PORT", "ingress", { PORT: "abc" }],
    ["REDIS_URL", "ingress", { REDIS_URL: "nope" }],
  ] as const) {
    test(`the ${service} process exits non-zero with one line naming ${variable}`, () => {
      const { exitCode, stderr } = startWith(service, env);
      expect(exitCode).toBe(2);
      const lines = stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`invalid ${variable}=`);
      expect(lines[0]).toMatch(/expected /);
    });
  }

  // A value that does not parse is exactly the one an error echoes: its password must not be in it.
  for (const [variable, service, env] of [
    ["REDIS_URL", "ingress", { REDIS_URL: "redis://user:s3cr3t-pw@[bad" }],
    ["REDIS_URL", "proxy", { REDIS_URL: "redis://user:s3cr3t-pw@" }],
    ["REDIS_URL", "ingress", { REDIS_URL: "http://user:s3cr3t-pw@redis:6379" }],
    ["UPSTREAM_URL", "proxy", { HANDLER: "http", UPSTREAM_URL: "http://user:s3cr3t-pw@exa mple" }],
    ["UPSTREAM_URL", "proxy", { HANDLER: "http", UPSTREAM_URL: "user:s3cr3t-pw@backend" }],
    ["UPSTREAM_HEADERS", "proxy", { UPSTREAM_HEADERS: '{"authorization": s3cr3t-pw}' }],
    ["API_KEYS", "ingress", { API_KEYS: "s3cr3t-pw" }],
  ] as const) {
    test(`the ${service} process names ${variable} and never prints its secret (${Object.values(env).at(-1)})`, () => {
      const { exitCode, stderr } = startWith(service, env);
      expect(exitCode).toBe(2);
      expect(stderr).toContain(`invalid ${variable}=`);
      expect(stderr).not.toContain("s3cr3t");
    });
  }
});
