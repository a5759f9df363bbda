/**
 * The overhead benchmark's second yardstick: the minimal pipeline of ../native on ioredis, with
 * none of the product's validation, deadlines, metrics or logging — what the queue round trip
 * costs with ioredis, the client the product keeps for everything off the hot path. Not part of
 * the product.
 */
import Redis from "ioredis";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const commands = new Redis(redisUrl, { enableAutoPipelining: true });
const replies = new Redis(redisUrl);
const replyStream = "minimal:replies";
const waiting = new Map<string, (result: string) => void>();
let nextId = 0;
// From the start of the stream (the benchmark gives it a fresh Redis): "$" could miss the first reply.
let lastId = "0-0";

void (async () => {
  for (;;) {
    const read = (await replies.xread("COUNT", 1000, "BLOCK", 1000, "STREAMS", replyStream, lastId)) as
      | [string, [string, string[]][]][]
      | null;
    for (const [, entries] of read ?? []) {
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
    void commands.xadd("minimal:requests", "*", "id", id, "payload", body);
    return new Response(await result, { headers: { "content-type": "application/json" } });
  },
});
