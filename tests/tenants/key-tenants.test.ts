import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

const acmeKey = `acme-${crypto.randomUUID()}`;
const plainKey = `plain-${crypto.randomUUID()}`;
const globexKey = `globex-${crypto.randomUUID()}`;

/** With API keys the key names the tenant; X-Tenant cannot move a request to another tenant. */
describe("tenants named by API keys", () => {
  let stack: Stack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "rsd-tenant-keys-"));
    const file = join(dir, "keys");
    writeFileSync(file, `globex ${createHash("sha256").update(globexKey).digest("hex")}\n`);
    stack = await Stack.start({
      proxies: 1,
      processingMs: 5,
      ingressEnv: { API_KEYS: `acme:${acmeKey},${plainKey}`, API_KEYS_FILE: file },
    });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  const read = (id: string, key: string, tenant?: string) =>
    fetch(`${stack.ingress.url}/api/requests/${id}`, {
      headers: { authorization: `Bearer ${key}`, ...(tenant ? { "x-tenant": tenant } : {}) },
    });

  test("each key reads only its own tenant's results; X-Tenant is ignored", async () => {
    const sent = await stack.request(
      { payload: "acme's" },
      { authorization: `Bearer ${acmeKey}`, prefer: "respond-async", "x-tenant": "globex" },
    );
    expect(sent.status).toBe(202);
    const id = sent.body.id as string;
    await waitFor("acme's result", async () => {
      const body = (await (await read(id, acmeKey)).json()) as { status: string };
      return body.status === "completed";
    });
    expect((await read(id, globexKey)).status).toBe(404);
    expect((await read(id, globexKey, "acme")).status).toBe(404);
    expect((await read(id, plainKey)).status).toBe(404);
    expect(await stack.redis.client().exists(stack.key(`tresult:acme:${id}`))).toBe(1);
  });

  test("a plain key is tenant default, a hashed line with a tenant is that tenant", async () => {
    const plain = await stack.request(
      { payload: 1 },
      { authorization: `Bearer ${plainKey}`, prefer: "respond-async" },
    );
    const globex = await stack.request(
      { payload: 1 },
      { authorization: `Bearer ${globexKey}`, prefer: "respond-async" },
    );
    const redis = stack.redis.client();
    expect(await redis.exists(stack.key(`result:${plain.body.id}`))).toBe(1);
    expect(await redis.exists(stack.key(`tresult:globex:${globex.body.id}`))).toBe(1);
  });

  test("without a key nothing changes: 401, and X-Tenant alone is no credential", async () => {
    const answer = await stack.request({ payload: 1 }, { "x-tenant": "acme" });
    expect(answer.status).toBe(401);
  });
});
