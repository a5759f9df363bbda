/**
 * The minimal pipeline's worker: reads 64 at a time through a consumer group and answers each
 * with one pipeline of reply XADDs and one XACK. Not part of the product (see ingress.ts).
 */
import Redis from "ioredis";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const commands = new Redis(redisUrl);
const reader = new Redis(redisUrl);
await commands.xgroup("CREATE", "minimal:requests", "workers", "$", "MKSTREAM").catch(() => {});

Bun.serve({ port: Number(process.env.PORT ?? 3951), fetch: () => new Response("ok") });
for (;;) {
  const read = (await reader.xreadgroup(
    "GROUP",
    "workers",
    "worker-1",
    "COUNT",
    64,
    "BLOCK",
    1000,
    "STREAMS",
    "minimal:requests",
    ">",
  )) as [string, [string, string[]][]][] | null;
  if (!read) continue;
  const pipeline = commands.pipeline();
  const ids: string[] = [];
  for (const [, entries] of read) {
    for (const [id, fields] of entries) {
      ids.push(id);
      pipeline.xadd("minimal:replies", "*", "id", fields[1] as string, "result", `{"echo":${fields[3]}}`);
    }
  }
  pipeline.xack("minimal:requests", "workers", ...ids);
  void pipeline.exec();
}
