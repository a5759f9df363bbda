/**
 * `bun run dev`: the whole stack on this machine with file-watch reload — one ingress (:3000)
 * and two proxies (:3001, :3002; DEV_PORT moves all three), logs prefixed by service — against
 * REDIS_URL, or a private redis-server on a free port in a temp directory when REDIS_URL does not
 * answer. Ctrl-C stops everything it started.
 */
import Redis from "ioredis";
import { RedisServer } from "./scaffold/redis-server.ts";
import { ServiceProcess } from "./scaffold/service-process.ts";

const colors = ["\x1b[36m", "\x1b[33m", "\x1b[35m", "\x1b[32m"];
const reset = "\x1b[0m";
const services: ServiceProcess[] = [];
let redis: RedisServer | undefined;
let started = 0;

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

/** Prints a process's lines behind its name, in a colour of its own. */
function printer(name: string): (line: string) => void {
  const color = colors[started++ % colors.length] as string;
  const prefix = `${color}${name.padEnd(8)}${reset} │ `;
  return (line) => process.stdout.write(`${prefix}${line}\n`);
}

/** Starts a service with file-watch reload and this process's environment, its lines printed. */
function start(service: {
  name: string;
  kind: "ingress" | "proxy";
  port: number;
  env: Record<string, string>;
}) {
  services.push(
    new ServiceProcess({
      ...service,
      bunFlags: ["--watch"],
      inheritEnv: true,
      onLine: printer(service.name),
      keepLines: 100,
    }),
  );
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
  redis = await RedisServer.start({ binary, dirPrefix: "rsd-dev-redis-", onLine: printer("redis") });
  return redis.url;
}

let stopping = false;
async function stopAll(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Services first (they drain against Redis), Redis last.
  await Promise.all(services.map((service) => service.stop("SIGTERM", 10_000)));
  await redis?.destroy();
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
  `dev: Redis at ${redisUrl}; ingress http://localhost:${basePort} (Swagger UI at /swagger, console at /console); Ctrl-C stops all`,
);
const common = { REDIS_URL: redisUrl, LOG_LEVEL: process.env.LOG_LEVEL ?? "info" };
start({ name: "ingress", kind: "ingress", port: basePort, env: { ...common, POD_NAME: "dev-ingress" } });
for (const index of [1, 2]) {
  const name = `proxy-${index}`;
  start({ name, kind: "proxy", port: basePort + index, env: { ...common, POD_NAME: `dev-${name}` } });
}
// If a process exits on its own (e.g. a configuration error), say so; --watch restarts a service on the next save.
const watched = services.map((service) => ({ name: service.name, exited: service.exited }));
if (redis) watched.push({ name: "redis", exited: redis.exited });
for (const { name, exited } of watched) {
  void exited.then((code) => {
    if (!stopping) console.error(`dev: ${name} exited with ${code}`);
  });
}
