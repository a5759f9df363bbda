import { afterAll, describe, expect, test } from "bun:test";
import { FakeIngress } from "./fake-ingress.ts";
import { runCli } from "./run-cli.ts";

const fake = new FakeIngress({ apiKey: "s3cret", fleet: { pods: 1, terminals: 4 }, processingMs: 10 });

afterAll(() => fake.stop());

describe("an ingress that requires an API key", () => {
  test("without a key every request is counted as unauthorized (401) and the run fails", async () => {
    const run = await runCli(["--url", fake.url, "--count", "3"]);
    expect(run.code).toBe(1);
    expect(run.result.totals.byStatus).toEqual({ "401": 3 });
    expect(run.result.totals.byCause).toEqual({ unauthorized: 3 });
    expect(run.stdout).toContain("--api-key");
  });

  test("--api-key (or LOAD_TEST_API_KEY) is sent as a bearer token, to the fleet endpoint too", async () => {
    const run = await runCli(["--url", fake.url, "--count", "3", "--api-key", "s3cret"]);
    expect(run.code).toBe(0);
    expect(run.result.totals.succeeded).toBe(3);
    expect(run.result.server.fleet?.terminals).toBe(4);
    const fromEnv = await runCli(["--url", fake.url, "--count", "1", "--async"], {
      env: { LOAD_TEST_API_KEY: "s3cret" },
    });
    expect(fromEnv.result.totals.succeeded).toBe(1);
  });
});
