import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  decodeRequest,
  encodeRequest,
  hashApiKey,
  isTenantName,
  loadIngressConfig,
  loadProxyConfig,
  MalformedMessageError,
  type RequestMessage,
  readApiKeys,
  StreamKeys,
} from "@rsd/shared";
import { Registry } from "prom-client";
import { urgencyOf } from "../../ingress/src/tenants/priority.ts";
import { TenantRequestMetrics } from "../../ingress/src/tenants/tenant-metrics.ts";
import { TenantResolver } from "../../ingress/src/tenants/tenant-resolver.ts";

const sha = (key: string) => createHash("sha256").update(key).digest("hex");

describe("tenant names", () => {
  test("a short lowercase alphabet: nothing that means something in a key, a label or a record", () => {
    for (const good of ["a", "acme", "team-7", "x_y", "0", "a".repeat(32)])
      expect(isTenantName(good)).toBe(true);
    for (const bad of [
      "",
      "a:b",
      "{x}",
      "*",
      "a b",
      "a".repeat(33),
      "Acme",
      "é",
      "-a",
      "_a",
      "a,b",
      "other",
      "a\nb",
    ])
      expect(isTenantName(bad)).toBe(false);
  });
});

describe("RFC 9218 Priority", () => {
  test("u=0…7 is the urgency, other members and parameters are ignored, the last u wins", () => {
    expect(urgencyOf(null)).toBe(3);
    expect(urgencyOf("u=0")).toBe(0);
    expect(urgencyOf("u=7, i")).toBe(7);
    expect(urgencyOf("i, u=1")).toBe(1);
    expect(urgencyOf("u=2;foo=bar")).toBe(2);
    expect(urgencyOf("u=1, u=5")).toBe(5);
    expect(urgencyOf("i")).toBe(3);
    expect(urgencyOf("  u=4  ,  ext=?1 ")).toBe(4);
  });

  test("malformed or out-of-range values give the default (3), never an error", () => {
    for (const header of [
      "u=8",
      "u=-1",
      "u=1.5",
      "u=a",
      "u=",
      "U=1",
      "u=01",
      "=1",
      "u=1,,",
      "{u=1}",
      `u=1, ${"x".repeat(300)}`,
    ])
      expect(urgencyOf(header)).toBe(3);
  });
});

describe("API keys name tenants", () => {
  test("API_KEYS: `tenant:key` entries, plain keys stay `default`, a colon key whose prefix is no tenant stays plain", () => {
    const keys = readApiKeys({
      API_KEYS: "acme:acme-key-0123456789, plain-key-0123456789, Not:A-tenant-0123456",
    });
    // A tenant prefix with a short key is an error, never silently a `default` key of the whole entry.
    expect(() => readApiKeys({ API_KEYS: "acme:short-secret" })).toThrow(ConfigError);
    expect(keys.map((key) => key.tenant)).toEqual(["acme", "default", "default"]);
    expect(keys[0]?.hash).toEqual(hashApiKey("acme-key-0123456789"));
    expect(keys[1]?.hash).toEqual(hashApiKey("plain-key-0123456789"));
    expect(keys[2]?.hash).toEqual(hashApiKey("Not:A-tenant-0123456"));
  });

  test("API_KEYS: an old key that looks like tenant:key keeps working written as default:<key>", () => {
    const [key] = readApiKeys({ API_KEYS: "default:ops:0123456789abcdef" });
    expect(key?.tenant).toBe("default");
    expect(key?.hash).toEqual(hashApiKey("ops:0123456789abcdef"));
  });

  test("API_KEYS_FILE: `<sha256>` or `<tenant> <sha256>` lines, comments and blanks skipped", () => {
    const dir = mkdtempSync(join(tmpdir(), "rsd-tenant-keys-"));
    try {
      const file = join(dir, "keys");
      writeFileSync(file, `# keys\n${sha("k1-0123456789abcdef")}\n\nglobex ${sha("k2-0123456789abcdef")}\n`);
      const keys = readApiKeys({ API_KEYS_FILE: file });
      expect(keys.map((key) => key.tenant)).toEqual(["default", "globex"]);
      for (const line of [
        `Globex ${sha("x")}`,
        `a:b ${sha("x")}`,
        `a b ${sha("x")}`,
        "globex nothex",
        `other ${sha("x")}`,
      ]) {
        writeFileSync(file, `${line}\n`);
        expect(() => readApiKeys({ API_KEYS_FILE: file })).toThrow(ConfigError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a short key is refused and the error never shows it", () => {
    let message = "";
    try {
      readApiKeys({ API_KEYS: "acme:short-secret" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain("API_KEYS");
    expect(message).not.toContain("short-secret");
  });

  test("TENANT_METRICS_MAX is validated at start", () => {
    expect(loadIngressConfig({ TENANT_METRICS_MAX: "5" }).tenantMetricsMax).toBe(5);
    expect(loadIngressConfig({}).tenantMetricsMax).toBe(20);
    for (const bad of ["0", "-1", "x", "1001"])
      expect(() => loadIngressConfig({ TENANT_METRICS_MAX: bad })).toThrow(/TENANT_METRICS_MAX/);
  });

  test("the key's tenant wins over X-Tenant; without keys X-Tenant names it, default is undefined", () => {
    const keyed = new TenantResolver({
      apiKeyHashes: [hashApiKey("acme-key-0123456789"), hashApiKey("plain-key-0123456789")],
      apiKeyTenants: ["acme", "default"],
    });
    const request = (headers: Record<string, string>) => new Request("http://h/api/requests", { headers });
    expect(keyed.of(request({ authorization: "Bearer acme-key-0123456789", "x-tenant": "globex" }))).toBe(
      "acme",
    );
    expect(
      keyed.of(request({ authorization: "Bearer plain-key-0123456789", "x-tenant": "globex" })),
    ).toBeUndefined();
    const open = new TenantResolver({ apiKeyHashes: [], apiKeyTenants: [] });
    expect(open.of(request({ "x-tenant": "globex" }))).toBe("globex");
    expect(open.of(request({ "x-tenant": "default" }))).toBeUndefined();
    expect(open.of(request({}))).toBeUndefined();
    expect(() => open.of(request({ "x-tenant": "a:b" }))).toThrow(/X-Tenant/);
  });
});

describe("tenant in the protocol", () => {
  const message: RequestMessage = {
    id: "r1",
    replyTo: "",
    deadline: 2,
    enqueuedAt: 1,
    payload: "{}",
    attempt: 1,
    resultTtlS: 0,
    kind: "json",
    retrySafe: false,
  };

  test("word 10 carries the tenant; `default` has none, so its record keeps its shape", () => {
    expect(decodeRequest(encodeRequest({ ...message, tenant: "acme" }))).toEqual({
      ...message,
      tenant: "acme",
    });
    expect(decodeRequest(encodeRequest(message))).toEqual(message);
    // A record of a writer from before tenants (9 words) is `default`'s.
    const [m, meta, ...body] = encodeRequest(message);
    expect(decodeRequest([m!, meta!.split(" ").slice(0, 9).join(" "), ...body])).toEqual(message);
  });

  test("a tenant word that is no tenant name refuses the record (it would become part of a key)", () => {
    const [m, meta, ...body] = encodeRequest(message);
    for (const bad of ["a:b", "{x}", "*", "OTHER", "other"])
      expect(() => decodeRequest([m!, `${meta!.slice(0, -1)}${bad}`, ...body])).toThrow(
        MalformedMessageError,
      );
  });

  test("result and idempotency keys: default keeps its names, tenants never meet each other or default", () => {
    const keys = new StreamKeys("p");
    expect(keys.result("id")).toBe("p:result:id");
    expect(keys.result("id", "default")).toBe("p:result:id");
    expect(keys.idempotency("k", "default")).toBe("p:idem:k");
    const names = new Set([
      keys.idempotency("acme:k"),
      keys.idempotency("k", "acme"),
      keys.idempotency("acme:k", "b"),
      keys.idempotency("b:k", "acme"),
      keys.result("id", "acme"),
      keys.result("acme:id"),
    ]);
    expect(names.size).toBe(6);
    // The last guard: a name with a separator never reaches a key.
    for (const bad of ["acme:b", "{x}", "*", "other"]) expect(() => keys.idempotency("k", bad)).toThrow();
  });
});

describe("rsd_tenant_requests_total", () => {
  test("the first TENANT_METRICS_MAX tenants get their own series, the rest are `other`", async () => {
    const registry = new Registry();
    const metrics = new TenantRequestMetrics(registry, 2);
    // One tenant only (default): nothing is counted, one boolean per request.
    metrics.count(undefined, 200);
    expect(await registry.metrics()).not.toContain("rsd_tenant_requests_total{");
    metrics.count("acme", 200);
    metrics.count(undefined, 200);
    metrics.count("t3", 429);
    metrics.count("t4", 200);
    metrics.count("acme", 503);
    const text = await registry.metrics();
    const series = text.split("\n").filter((line) => line.startsWith("rsd_tenant_requests_total{"));
    expect(series.sort()).toEqual([
      'rsd_tenant_requests_total{tenant="acme",status="200"} 1',
      'rsd_tenant_requests_total{tenant="acme",status="503"} 1',
      'rsd_tenant_requests_total{tenant="default",status="200"} 1',
      'rsd_tenant_requests_total{tenant="other",status="200"} 1',
      'rsd_tenant_requests_total{tenant="other",status="429"} 1',
    ]);
  });
});

describe("lane variables are validated at start", () => {
  test("TENANT_LANES, TENANT_WEIGHTS, TENANT_MAX_INFLIGHT, TENANT_MAX_QUEUE_DEPTH, LANE_AGING_MS", () => {
    const proxy = loadProxyConfig({
      TENANT_LANES: "on",
      TENANT_WEIGHTS: "acme=3, globex=1",
      TENANT_MAX_INFLIGHT: "4",
    });
    expect(proxy).toMatchObject({
      tenantLanes: true,
      tenantWeights: { acme: 3, globex: 1 },
      tenantMaxInflight: 4,
      laneAgingMs: 1000,
    });
    expect(loadProxyConfig({})).toMatchObject({
      tenantLanes: false,
      tenantWeights: {},
      tenantMaxInflight: 0,
    });
    expect(loadIngressConfig({ TENANT_MAX_QUEUE_DEPTH: "50" }).tenantMaxQueueDepth).toBe(50);
    const bad: [string, string][] = [
      ["TENANT_LANES", "yes"],
      ["TENANT_WEIGHTS", "acme"],
      ["TENANT_WEIGHTS", "acme=0"],
      ["TENANT_WEIGHTS", "acme=1.5"],
      ["TENANT_WEIGHTS", "acme=3,acme=1"],
      ["TENANT_WEIGHTS", "a:b=1"],
      ["TENANT_WEIGHTS", "other=2"],
      ["TENANT_WEIGHTS", "acme=1001"],
      ["TENANT_MAX_INFLIGHT", "-1"],
      ["LANE_AGING_MS", "0"],
    ];
    for (const [name, value] of bad) expect(() => loadProxyConfig({ [name]: value })).toThrow(name);
    expect(() => loadIngressConfig({ TENANT_MAX_QUEUE_DEPTH: "x" })).toThrow("TENANT_MAX_QUEUE_DEPTH");
  });
});
