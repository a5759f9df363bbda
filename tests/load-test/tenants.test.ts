import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue, Stack } from "../helpers/stack.ts";
import { FakeIngress } from "./fake-ingress.ts";
import { runCli } from "./run-cli.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("load tester: --tenant, --api-key, --priority", () => {
  let stack: Stack;
  const fake = new FakeIngress({ apiKey: "s3cret-key", fleet: { pods: 1, terminals: 4 }, processingMs: 5 });
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 5 });
  }, 60_000);
  afterAll(async () => {
    fake.stop();
    await stack?.stop();
  }, 60_000);

  test("repeated --tenant sends round robin as each tenant, and the summary splits by tenant", async () => {
    const run = await runCli([
      "--url",
      stack.ingress.url,
      "--count",
      "20",
      "--concurrency",
      "4",
      "--tenant",
      "acme",
      "--tenant",
      "globex",
      "--priority",
      "1",
    ]);
    expect(run.code).toBe(0);
    expect(run.result.tenants?.acme?.succeeded).toBe(10);
    expect(run.result.tenants?.globex?.succeeded).toBe(10);
    expect(run.result.tenants?.acme?.share).toBe(0.5);
    expect(run.stdout).toMatch(/tenant acme\s+10 ok/);
    // The ingress saw them as those tenants.
    for (const tenant of ["acme", "globex"])
      expect(
        await metricValue(stack.ingress.url, "rsd_tenant_requests_total", { tenant, status: "200" }),
      ).toBe(10);
  });

  test("one identity: no tenant split, as before", async () => {
    const run = await runCli(["--url", stack.ingress.url, "--count", "2", "--tenant", "solo"]);
    expect(run.code).toBe(0);
    expect(run.result.tenants).toBeNull();
  });

  test("repeated --api-key mixes keys; `tenant:key` labels one, a plain key is keyN", async () => {
    const run = await runCli([
      "--url",
      fake.url,
      "--count",
      "4",
      "--api-key",
      "acme:s3cret-key",
      "--api-key",
      "wrong-key",
      "--max-error-rate",
      "100%",
    ]);
    expect(run.result.tenants?.acme).toMatchObject({ succeeded: 2, failed: 0 });
    expect(run.result.tenants?.key2).toMatchObject({ succeeded: 0, failed: 2, byStatus: { "401": 2 } });
  });

  test("bad --tenant and --priority values are refused before anything is sent", async () => {
    for (const args of [
      ["--tenant", "a:b"],
      ["--tenant", "Other"],
      ["--priority", "8"],
      ["--priority", "u=1"],
    ]) {
      const child = Bun.spawnSync(["bun", "tools/load-test/main.ts", "--url", fake.url, ...args], {
        stdout: "pipe",
        stderr: "pipe",
      });
      expect(child.exitCode).not.toBe(0);
      expect(child.stderr.toString()).toMatch(/--tenant|--priority/);
    }
  });
});
