import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ConfigError, loadIngressConfig } from "@rsd/shared";
import { TestRedis } from "../helpers/redis-server.ts";
import { ServiceProcess } from "../helpers/service-process.ts";
import { adminKey, keyedEnv } from "./support.ts";

const secret = "a-shared-console-session-secret-0123456789";

/** Logs in on `baseUrl` with the admin key and returns the session cookie it set. */
async function login(baseUrl: string): Promise<string> {
  const response = await fetch(`${baseUrl}/console/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ key: adminKey }).toString(),
    redirect: "manual",
  });
  expect(response.status).toBe(303);
  return (response.headers.get("set-cookie") ?? "").split(";")[0] as string;
}

async function statusWithCookie(baseUrl: string, cookie: string): Promise<number> {
  const response = await fetch(`${baseUrl}/api/admin/dead-letters`, { headers: { cookie } });
  await response.arrayBuffer();
  return response.status;
}

describe("the console's login cookie across ingress replicas", () => {
  let redis: TestRedis;
  const ingresses: ServiceProcess[] = [];

  beforeAll(async () => {
    redis = await TestRedis.start();
    const base = { REDIS_URL: redis.url, STREAM_PREFIX: "session", ...keyedEnv };
    const replicas: Record<string, string>[] = [
      { ADMIN_SESSION_SECRET: secret },
      { ADMIN_SESSION_SECRET: secret },
      {},
    ];
    for (const extra of replicas)
      ingresses.push(await ServiceProcess.start("ingress", { ...base, ...extra }));
  });

  afterAll(async () => {
    await Promise.all(ingresses.map((ingress) => ingress.stop("SIGKILL")));
    await redis?.destroy();
  });

  test("replicas that share ADMIN_SESSION_SECRET accept each other's cookie; one without it does not", async () => {
    const [first, second, own] = ingresses as [ServiceProcess, ServiceProcess, ServiceProcess];
    const cookie = await login(first.url);
    expect(await statusWithCookie(first.url, cookie)).toBe(200);
    expect(await statusWithCookie(second.url, cookie)).toBe(200);
    expect(await statusWithCookie(own.url, cookie)).toBe(401);
    // And a cookie of the replica without the secret is its own alone.
    const ownCookie = await login(own.url);
    expect(await statusWithCookie(own.url, ownCookie)).toBe(200);
    expect(await statusWithCookie(first.url, ownCookie)).toBe(401);
  });

  test("a short secret is a startup error that names the variable and never prints the value", () => {
    const short = "short-secret-123";
    let error: unknown;
    try {
      loadIngressConfig({ ADMIN_SESSION_SECRET: short });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain("ADMIN_SESSION_SECRET");
    expect(String((error as Error).message)).not.toContain(short);
  });
});
