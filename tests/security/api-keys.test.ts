import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

const inlineKey = `inline-${crypto.randomUUID()}`;
const fileKey = `from-file-${crypto.randomUUID()}`;

describe("optional client authentication with API keys", () => {
  let stack: Stack;
  let dir: string;
  let metricsPort: number;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rsd-keys-"));
    const keysFile = join(dir, "api-keys.sha256");
    writeFileSync(keysFile, `# hashed keys only\n${createHash("sha256").update(fileKey).digest("hex")}\n`);
    metricsPort = await freePort();
    stack = await Stack.start({
      proxies: 1,
      processingMs: 5,
      ingressEnv: { API_KEYS: inlineKey, API_KEYS_FILE: keysFile, METRICS_PORT: String(metricsPort) },
      ingressReadyUrl: `http://127.0.0.1:${metricsPort}/readyz`,
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const call = (path: string, authorization?: string) =>
    fetch(`${stack.ingress.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ payload: { secret: "payload" } }),
    });

  test("no key → 401 JSON, wrong key → 401, right key (inline or hashed in a file) → 200", async () => {
    const missing = await call("/api/requests");
    expect(missing.status).toBe(401);
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expect(((await missing.json()) as { error: string }).error).toMatch(/API key/);
    expect((await call("/api/requests", "Bearer not-the-key-at-all-000")).status).toBe(401);
    expect((await call("/api/requests", `Basic ${inlineKey}`)).status).toBe(401);
    expect((await call("/proxy/anything", "Bearer nope-nope-nope-nope")).status).toBe(401);
    expect((await call("/api/requests", `Bearer ${inlineKey}`)).status).toBe(200);
    expect((await call("/api/requests", `Bearer ${fileKey}`)).status).toBe(200);
    // The same through the Elysia app (Bun's router serves only the exact path).
    expect((await call("/api/requests/")).status).toBe(401);
    expect((await call("/api/requests/", `Bearer ${inlineKey}`)).status).toBe(200);
  });

  test("refused requests never reach Redis", async () => {
    const before = await stack.redis.client().xlen(stack.key("requests"));
    await call("/api/requests", "Bearer wrong-wrong-wrong-wrong");
    expect(await stack.redis.client().xlen(stack.key("requests"))).toBe(before);
  });

  test("health, readiness and metrics moved to METRICS_PORT stay open there, and leave the API port", async () => {
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      expect((await fetch(`http://127.0.0.1:${metricsPort}${path}`)).status).toBe(200);
      expect((await fetch(`${stack.ingress.url}${path}`)).status).toBe(404);
    }
  });

  test("the keys appear in no log line of the run", async () => {
    await call("/api/requests", `Bearer ${inlineKey}`);
    const logs = [...stack.ingress.output, ...stack.proxies.flatMap((proxy) => proxy.output)].join("\n");
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(inlineKey);
    expect(logs).not.toContain(fileKey);
  });
});
