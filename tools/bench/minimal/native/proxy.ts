/**
 * The minimal pipeline's worker: reads up to 64 at a time through a consumer group and answers
 * each with a reply XADD, then one XACK, all auto-pipelined into one write by Bun's native client.
 * Not part of the product (see ingress.ts).
 */
import { RedisClient } from "bun";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const commands = new RedisClient(redisUrl);
const reader = new RedisClient(redisUrl);
await commands.send("XGROUP", ["CREATE", "minimal:requests", "workers", "$", "MKSTREAM"]).catch(() => {});

Bun.serve({ port: Number(process.env.PORT ?? 3951), fetch: () => new Response("ok") });
const read = [
  "GROUP",
  "workers",
  "worker-1",
  "COUNT",
  "64",
  "BLOCK",
  "1000",
  "STREAMS",
  "minimal:requests",
  ">",
];
for (;;) {
  const reply = (await reader.send("XREADGROUP", read)) as Record<string, [string, string[]][]> | null;
  const ids: string[] = [];
  for (const entries of Object.values(reply ?? {})) {
    for (const [id, fields] of entries) {
      ids.push(id);
      void commands.send("XADD", [
        "minimal:replies",
        "*",
        "id",
        fields[1] as string,
        "result",
        `{"echo":${fields[3]}}`,
      ]);
    }
  }
  if (ids.length > 0) void commands.send("XACK", ["minimal:requests", "workers", ...ids]);
}
