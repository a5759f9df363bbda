/**
 * The yardstick for the overhead benchmark: a minimal, tuned Redis Streams request/reply ingress
 * with none of the product's validation, deadlines, metrics or logging. Bun.serve and Bun's
 * native Redis client (RESP and auto-pipelining in native code), one blocking XREAD for all
 * replies: what the queue round trip costs on this machine. Not part of the product.
 */
import { RedisClient } from "bun";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const commands = new RedisClient(redisUrl);
const replies = new RedisClient(redisUrl);
const replyStream = "minimal:replies";
const waiting = new Map<string, (result: string) => void>();
let nextId = 0;
// From the start of the stream (the benchmark gives it a fresh Redis): "$" could miss the first reply.
let lastId = "0-0";

void (async () => {
  for (;;) {
    const read = (await replies.send("XREAD", [
      "COUNT",
      "1000",
      "BLOCK",
      "1000",
      "STREAMS",
      replyStream,
      lastId,
    ])) as Record<string, [string, string[]][]> | null;
    for (const entries of Object.values(read ?? {})) {
      for (const [id, fields] of entries) {
        lastId = id;
        const resolve = waiting.get(fields[1] as string);
        waiting.delete(fields[1] as string);
        resolve?.(fields[3] as string);
      }
    }
  }
})();

Bun.serve({
  port: Number(process.env.PORT ?? 3950),
  async fetch(request) {
    if (new URL(request.url).pathname === "/readyz") return new Response("ok");
    const body = await request.text();
    const id = String(++nextId);
    const result = new Promise<string>((resolve) => waiting.set(id, resolve));
    void commands.send("XADD", ["minimal:requests", "*", "id", id, "payload", body]);
    return new Response(await result, { headers: { "content-type": "application/json" } });
  },
});
