import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { connect } from "node:net";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "../helpers/ports.ts";
import { waitFor } from "../helpers/wait.ts";

setDefaultTimeout(90_000);

/**
 * Three consecutive free ports (ingress, proxy 1, proxy 2), as DEV_PORT asks for. Below the
 * kernel's ephemeral range (32768 and up here), where every other test's servers and client
 * sockets get their ports, so none of them can take one between this check and dev's bind.
 */
async function freeRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await Promise.all([0, 1, 2].map((offset) => portIsFree(base + offset)));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no three consecutive free ports");
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(false);
    });
    socket.once("error", () => done(true));
  });
}

describe("bun run dev", () => {
  let dev: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  afterAll(async () => {
    if (dev && dev.exitCode === null) {
      dev.kill("SIGKILL");
      await dev.exited;
    }
  }, 30_000);

  test("with no Redis answering: a private redis-server, one ingress and two proxies; Ctrl-C stops them all", async () => {
    const base = await freeRun();
    const nobody = await freePort(); // REDIS_URL pointing at a port nothing listens on
    dev = Bun.spawn(["bun", "tools/dev.ts"], {
      cwd: resolve(import.meta.dir, "../.."),
      env: {
        ...process.env,
        DEV_PORT: String(base),
        REDIS_URL: `redis://127.0.0.1:${nobody}`,
        LOG_LEVEL: "info",
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    // Both streams: the services' lines come on stdout, dev's own complaints on stderr.
    let output = "";
    for (const stream of [dev.stdout, dev.stderr]) {
      void (async () => {
        for await (const chunk of stream) output += new TextDecoder().decode(chunk);
      })();
    }

    const redisUrl = await waitFor(
      "dev to start its own Redis",
      () => /dev: Redis at (\S+);/.exec(output)?.[1],
      {
        timeoutMs: 20_000,
      },
    );
    expect(redisUrl).not.toBe(`redis://127.0.0.1:${nobody}`);
    const ingress = `http://127.0.0.1:${base}`;
    for (const port of [base, base + 1, base + 2]) {
      const ready = await waitFor(
        `service on :${port} to be ready`,
        async () => {
          if (output.includes("exited with")) return "exited";
          return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200;
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      ).catch((error: Error) => error.message);
      // On failure, say what dev printed: a service that exited names its reason there.
      expect({ port, ready, output: ready === true ? "" : output.slice(-3000) }).toEqual({
        port,
        ready: true,
        output: "",
      });
    }
    // Enough requests that both proxies take some: each names its pod in the answer.
    const pods = new Set<string>();
    await waitFor("both proxies to answer requests", async () => {
      const response = await fetch(`${ingress}/api/requests`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ payload: { hello: "dev" }, timeoutMs: 5000 }),
      });
      const body = (await response.json()) as { status: string; pod: string; result: unknown };
      expect(response.status).toBe(200);
      expect(body.result).toEqual({ echo: { hello: "dev" } });
      pods.add(body.pod);
      return pods.size === 2;
    });
    expect([...pods].sort()).toEqual(["dev-proxy-1", "dev-proxy-2"]);
    // Every service's lines carry its prefix.
    for (const name of ["ingress", "proxy-1", "proxy-2"])
      expect(output).toContain(`${name.padEnd(8)}\x1b[0m │ {`);

    dev.kill("SIGINT");
    expect(await dev.exited).toBe(0);
    // Everything it started is gone: the services' ports and its private Redis refuse connections.
    const redisPort = Number(new URL(redisUrl).port);
    for (const port of [base, base + 1, base + 2, redisPort]) expect(await portIsFree(port)).toBe(true);
  });
});
