/**
 * `bun run dev`: the whole stack on this machine with file-watch reload — one ingress (:3000)
 * and two proxies (:3001, :3002; DEV_PORT moves all three), logs prefixed by service — against
 * REDIS_URL, or a private redis-server on a free port in a temp directory when REDIS_URL does not
 * answer. Ctrl-C stops everything it started.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import Redis from "ioredis";

const root = resolve(import.meta.dir, "..");
const colors = ["\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m"];
const reset = "\x1b[0m";
const children: { name: string; proc: Subprocess }[] = [];
let tempDir: string | undefined;

async function answers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, connectTimeout: 1000 });
  probe.on("error", () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function pipe(name: string, color: string, stream: ReadableStream<Uint8Array>): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  const prefix = `${color}${name.padEnd(8)}${reset} │ `;
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) process.stdout.write(`${prefix}${line}\n`);
  }
}

function start(name: string, command: string[], env: Record<string, string>): void {
  const color = colors[children.length % colors.length] as string;
  const proc = Bun.spawn(command, {
    cwd: root,
    env: { ...process.env, ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  children.push({ name, proc });
  void pipe(name, color, proc.stdout);
  void pipe(name, color, proc.stderr);
}

async function privateRedis(): Promise<string> {
  const binary = Bun.which("redis-server");
  if (!binary) {
    console.error(
      "dev: REDIS_URL does not answer and redis-server is not installed.\n" +
        "  Debian/Ubuntu: sudo apt-get install redis-server\n" +
        "  macOS:         brew install redis\n" +
        "  or point REDIS_URL at a Redis ≥ 7 you have.",
    );
    process.exit(1);
  }
  const port = await freePort();
  tempDir = mkdtempSync(join(tmpdir(), "rsd-dev-redis-"));
  start("redis", [binary, "--port", String(port), "--bind", "127.0.0.1", "--dir", tempDir, "--save", ""], {});
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  while (!(await answers(url))) {
    if (Date.now() > deadline) throw new Error("the private redis-server did not start within 10 s");
    await Bun.sleep(100);
  }
  return url;
}

let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Services first (they drain against Redis), Redis last.
  const services = children.filter((child) => child.name !== "redis");
  for (const { proc } of services) proc.kill("SIGTERM");
  await Promise.race([Promise.all(services.map(({ proc }) => proc.exited)), Bun.sleep(10_000)]);
  for (const { proc } of children) proc.kill("SIGKILL");
  await Promise.all(children.map(({ proc }) => proc.exited));
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  process.exit(0);
}
process.on("SIGINT", () => void stopAll());
process.on("SIGTERM", () => void stopAll());

const basePort = Number(process.env.DEV_PORT ?? 3000);
if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65533) {
  console.error(
    `dev: DEV_PORT=${process.env.DEV_PORT} is not a port (1-65533; the proxies take the next two)`,
  );
  process.exit(2);
}
const configured = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const redisUrl = (await answers(configured)) ? configured : await privateRedis();
console.log(
  `dev: Redis at ${redisUrl}; ingress http://localhost:${basePort} (Swagger UI at /swagger); Ctrl-C stops all`,
);
const common = { REDIS_URL: redisUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? "info" };
start("ingress", ["bun", "--watch", "ingress/src/main.ts"], {
  ...common,
  PORT: String(basePort),
  POD_NAME: "dev-ingress",
});
for (const index of [1, 2]) {
  start(`proxy-${index}`, ["bun", "--watch", "proxy/src/main.ts"], {
    ...common,
    PORT: String(basePort + index),
    POD_NAME: `dev-proxy-${index}`,
  });
}
// If a service exits on its own (e.g. a configuration error), say so; --watch restarts it on the next save.
for (const { name, proc } of children) {
  void proc.exited.then((code) => {
    if (!stopping) console.error(`dev: ${name} exited with ${code}`);
  });
}
