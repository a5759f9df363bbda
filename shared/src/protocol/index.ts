/**
 * The protocol on Redis, in one folder: key names (keys.ts), the records and their format
 * versions (records/), the Lua scripts (scripts/), the typed client over its two adapters
 * (client/), and the operations the services use (the rest). Nothing outside this folder writes
 * a Redis command or imports a Redis client. docs/contract.md describes it for other readers.
 */
export * from "./backend-pause.ts";
export * from "./circuit-breaker.ts";
export * from "./client/cluster-connection.ts";
export * from "./client/connect.ts";
export type { Command, Connection } from "./client/connection.ts";
export * from "./client/native-connection.ts";
export * from "./client/redis-client.ts";
export * from "./client/replies.ts";
export * from "./completions.ts";
export * from "./dead-letters.ts";
export * from "./entry-ref.ts";
export * from "./fleet-registry.ts";
export * from "./idempotency-store.ts";
export * from "./keys.ts";
export * from "./lanes.ts";
export * from "./operations.ts";
export * from "./queue-age.ts";
export * from "./rate-limit.ts";
export * from "./records/dead-letter.ts";
export { MalformedMessageError } from "./records/fields.ts";
export * from "./records/heartbeat.ts";
export * from "./records/reply.ts";
export * from "./records/request.ts";
export * from "./records/stored-result.ts";
export * from "./reply-channel.ts";
export * from "./request-queue.ts";
export * from "./result-store.ts";
export { type LuaScript, scripts } from "./scripts/index.ts";
export * from "./tenant.ts";
