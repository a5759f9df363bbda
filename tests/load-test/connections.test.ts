import { afterAll, describe, expect, test } from "bun:test";
import { FakeIngress } from "./fake-ingress.ts";
import { runCli } from "./run-cli.ts";

// Bun's fetch runs at most 256 requests at once per process unless told otherwise at start-up;
// the tool restarts itself with a higher limit, and the server must see every connection asked for.
const fake = new FakeIngress({ processingMs: 300 });

afterAll(() => fake.stop());

describe("high concurrency", () => {
  test("300 connections are really 300 requests at the server at once, past Bun's default cap of 256", async () => {
    const run = await runCli(["--url", fake.url, "--concurrency", "300", "--count", "600"]);
    expect(run.code).toBe(0);
    expect(run.result.totals).toMatchObject({ sent: 600, succeeded: 600 });
    expect(run.result.options.mode).toBe("concurrent");
    expect(run.result.concurrency.peakInFlight).toBe(300);
    expect(fake.peakInFlight).toBe(300);
  });
});
