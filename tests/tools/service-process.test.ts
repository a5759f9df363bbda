import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ServiceProcess } from "../../tools/scaffold/service-process.ts";

// The port launch() picks is free when asked, but another process may bind it first (an outgoing
// connection's ephemeral port did, once, in CI). A start that fails on exactly that is retried on
// another port; any other failure is not.

const dir = mkdtempSync(join(tmpdir(), "rsd-service-process-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A stand-in service: it counts its starts in ATTEMPTS_FILE. While the count is under
 * TAKEN_UNTIL, it finds its port taken for real (it binds PORT twice, and Bun's own EADDRINUSE
 * error ends it); with FAIL=other it fails for another reason; else it answers /readyz.
 */
const entry = join(dir, "service.ts");
writeFileSync(
  entry,
  `import { existsSync, readFileSync, writeFileSync } from "node:fs";
const file = process.env.ATTEMPTS_FILE!;
const attempt = (existsSync(file) ? Number(readFileSync(file, "utf8")) : 0) + 1;
writeFileSync(file, String(attempt));
const port = Number(process.env.PORT);
if (process.env.FAIL === "other") throw new Error("REDIS_URL is not a URL");
if (attempt < Number(process.env.TAKEN_UNTIL ?? 0)) Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response() });
Bun.serve({ hostname: "127.0.0.1", port, fetch: () => new Response("ok") });
`,
);

const attemptsOf = (file: string) => Number(readFileSync(file, "utf8"));

/** Launches the stand-in with its own attempts file. */
function launchStandIn(name: string, env: Record<string, string>) {
  const attempts = join(dir, name);
  const launch = ServiceProcess.launch({
    kind: "fragile-backend",
    entry,
    env: { ATTEMPTS_FILE: attempts, ...env },
    readyTimeoutMs: 10_000,
  });
  return { attempts, launch };
}

test("a start whose port was taken meanwhile is retried on another port, and becomes ready", async () => {
  const { attempts, launch } = launchStandIn("taken", { TAKEN_UNTIL: "3" });
  const service = await launch;
  try {
    expect(attemptsOf(attempts)).toBe(3);
    expect((await fetch(service.readyUrl)).status).toBe(200);
  } finally {
    await service.stop();
  }
}, 30_000);

test("after three taken ports it gives up, with the service's own error", async () => {
  const { attempts, launch } = launchStandIn("always-taken", { TAKEN_UNTIL: "100" });
  await expect(launch).rejects.toThrow("EADDRINUSE");
  expect(attemptsOf(attempts)).toBe(3);
}, 30_000);

test("a start that fails for another reason is not retried", async () => {
  const { attempts, launch } = launchStandIn("other", { FAIL: "other" });
  await expect(launch).rejects.toThrow("REDIS_URL is not a URL");
  expect(attemptsOf(attempts)).toBe(1);
}, 30_000);
