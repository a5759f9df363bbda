/**
 * rediss:// end to end: a redis-server that speaks only TLS, with a throwaway CA and server
 * certificate made by openssl in a temporary folder; both services trust the CA through
 * REDIS_TLS_CA_FILE and verify the server's name (127.0.0.1 in the certificate's SAN).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { ServiceProcess } from "../helpers/service-process.ts";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

function openssl(dir: string, ...args: string[]): void {
  const result = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr.toString()}`);
}

/** A CA, and a server certificate it signed for 127.0.0.1 / localhost, valid for a day. */
function makeCertificates(dir: string) {
  openssl(
    dir,
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "1",
    "-subj",
    "/CN=rsd test CA",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  );
  openssl(
    dir,
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    "/CN=127.0.0.1",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
  );
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "san.cnf",
    "-out",
    "server.pem",
  );
  return { caFile: join(dir, "ca.pem"), certFile: join(dir, "server.pem"), keyFile: join(dir, "server.key") };
}

describe("Redis over TLS (rediss:// with a private CA)", () => {
  let dir: string;
  let stack: Stack;
  let caFile: string;
  const extra: ServiceProcess[] = [];

  beforeAll(async () => {
    if (!Bun.which("openssl"))
      throw new Error("openssl is not on PATH; this test needs it (apt-get install openssl)");
    dir = mkdtempSync(join(tmpdir(), "rsd-tls-"));
    const tls = makeCertificates(dir);
    caFile = tls.caFile;
    stack = await Stack.start({
      proxies: 1,
      terminals: 2,
      processingMs: 20,
      env: { REDIS_TLS_CA_FILE: caFile },
      redis: { tls },
    });
  });
  afterAll(async () => {
    await Promise.all(extra.map((service) => service.stop("SIGKILL")));
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the server speaks TLS only: a plain redis:// client gets no answer", async () => {
    expect(stack.redis.url).toStartWith("rediss://127.0.0.1:");
    expect(stack.baseEnv().REDIS_URL).toBe(stack.redis.url);
    const plain = new Redis({
      host: "127.0.0.1",
      port: stack.redis.port,
      lazyConnect: true,
      connectTimeout: 1000,
      commandTimeout: 1000,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    plain.on("error", () => {});
    try {
      const answer = await plain
        .connect()
        .then(() => plain.ping())
        .catch((error: Error) => error.message);
      expect(answer).not.toBe("PONG");
    } finally {
      plain.disconnect();
    }
  });

  test("a POST round trip through TLS: 200 with the result", async () => {
    const { status, body } = await stack.request({ payload: { over: "tls" } });
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "completed", result: { echo: { over: "tls" } } });
  });

  test("an async request over TLS: 202, then 200", async () => {
    const accepted = await stack.request({ payload: { job: "tls" } }, { prefer: "respond-async" });
    expect(accepted.status).toBe(202);
    const done = await waitFor("the async result", async () => {
      const response = await fetch(`${stack.ingress.url}${accepted.headers.get("location")}`);
      return response.status === 200 ? ((await response.json()) as Record<string, unknown>) : undefined;
    });
    expect(done).toMatchObject({ status: "completed", result: { echo: { job: "tls" } } });
  });

  test("the certificate is verified: without the CA file the ingress never becomes ready", async () => {
    const env = { ...stack.baseEnv(), LOG_LEVEL: "debug" };
    delete (env as Record<string, string | undefined>).REDIS_TLS_CA_FILE;
    const untrusting = await ServiceProcess.start("ingress", env, { waitReady: false });
    extra.push(untrusting);
    const refusal = await waitFor("a certificate error in the ingress log", () =>
      untrusting.logs().find((line) => /certificate|SELF_SIGNED|self.signed/i.test(JSON.stringify(line))),
    );
    expect(JSON.stringify(refusal)).toMatch(/certificate|self.signed/i);
    expect((await fetch(`${untrusting.url}/readyz`)).status).toBe(503);
  });
});
