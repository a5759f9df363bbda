import type { LuaScript } from "../scripts/index.ts";
import type { Command, Connection } from "./connection.ts";
import { firstStreamEntries, isRedisError, mapReply, type StreamEntry, streamRange } from "./replies.ts";

export interface SetOptions {
  /** Expire after this many seconds… */
  ttlS?: number;
  /** …or milliseconds. */
  ttlMs?: number;
  /** Only if the key does not exist yet (SET NX). */
  onlyIfAbsent?: boolean;
}

export interface XaddOptions {
  /** Cap the stream near this length (MAXLEN ~). */
  maxLength?: number;
  /** Do not create the stream when it is missing (NOMKSTREAM). */
  noCreate?: boolean;
}

export interface TrimOptions {
  /** Drop entries below this id (MINID) … */
  minId?: string;
  /** … or beyond this length (MAXLEN). */
  maxLength?: number;
  /** `~`: whole macro nodes only, with no limit on how many go (LIMIT 0). */
  approximate?: boolean;
}

export interface ReadOptions {
  stream: string;
  /** Entries after this id; for a group read `>` means never delivered. */
  after: string;
  count: number;
  /** Block this long when there is nothing yet (omitted: do not block). */
  blockMs?: number;
}

export interface AutoClaimed {
  next: string;
  entries: StreamEntry[];
  /** Pending ids whose entries are gone: they can only be acknowledged. */
  deleted: string[];
}

/**
 * The commands of the protocol, typed, over either adapter (see connection.ts). Command strings
 * are written here and in commands below, nowhere else; replies of both RESP versions are read
 * here into plain values.
 */
export class RedisClient {
  constructor(readonly connection: Connection) {}

  get ready(): boolean {
    return this.connection.ready;
  }

  get cluster(): boolean {
    return this.connection.cluster;
  }

  waitUntilReady(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.connection.waitUntilReady(timeoutMs, signal);
  }

  onReady(listener: () => void): void {
    this.connection.onReady(listener);
  }

  close(): void {
    this.connection.close();
  }

  transaction(commands: Command[]): Promise<unknown[]> {
    return this.connection.transaction(commands);
  }

  async xadd(key: string, fields: string[], options: XaddOptions = {}): Promise<string | null> {
    return (await this.connection.send(...commands.xadd(key, fields, options))) as string | null;
  }

  async xreadGroup(group: string, consumer: string, options: ReadOptions): Promise<StreamEntry[]> {
    const args = ["GROUP", group, consumer, "COUNT", String(options.count)];
    if (options.blockMs !== undefined) args.push("BLOCK", String(options.blockMs));
    args.push("STREAMS", options.stream, options.after);
    return firstStreamEntries(await this.connection.send("XREADGROUP", args));
  }

  async xread(options: ReadOptions): Promise<StreamEntry[]> {
    const args = ["COUNT", String(options.count)];
    if (options.blockMs !== undefined) args.push("BLOCK", String(options.blockMs));
    args.push("STREAMS", options.stream, options.after);
    return firstStreamEntries(await this.connection.send("XREAD", args));
  }

  async xack(stream: string, group: string, ids: string[]): Promise<number> {
    return Number(await this.connection.send(...commands.xack(stream, group, ids)));
  }

  /** XCLAIM … JUSTID to `consumer` itself: resets the entries' idle time without counting a delivery. */
  async xclaimJustId(stream: string, group: string, consumer: string, ids: string[]): Promise<void> {
    await this.connection.send("XCLAIM", [stream, group, consumer, "0", ...ids, "JUSTID"]);
  }

  async xautoclaim(
    stream: string,
    group: string,
    consumer: string,
    options: { minIdleMs: number; cursor: string; count: number },
  ): Promise<AutoClaimed> {
    const reply = (await this.connection.send("XAUTOCLAIM", [
      stream,
      group,
      consumer,
      String(options.minIdleMs),
      options.cursor,
      "COUNT",
      String(options.count),
    ])) as [string, (StreamEntry | null)[], string[]?];
    const entries = reply[1].filter((entry): entry is StreamEntry => entry !== null);
    return { next: reply[0], entries, deleted: reply[2] ?? [] };
  }

  /** Creates the group (and the stream) from `from`; false when it existed already. */
  async xgroupCreate(stream: string, group: string, from: string): Promise<boolean> {
    try {
      await this.connection.send("XGROUP", ["CREATE", stream, group, from, "MKSTREAM"]);
      return true;
    } catch (error) {
      if (isRedisError(error, "BUSYGROUP")) return false;
      throw error;
    }
  }

  /** Entries from `start` to `end` (ids, `-`, `+`, or `(id` for exclusive), oldest first. */
  async xrange(key: string, start: string, end: string, count: number): Promise<StreamEntry[]> {
    return streamRange(await this.connection.send("XRANGE", [key, start, end, "COUNT", String(count)]));
  }

  /** Entries from `end` down to `start`, newest first. */
  async xrevrange(key: string, end: string, start: string, count: number): Promise<StreamEntry[]> {
    return streamRange(await this.connection.send("XREVRANGE", [key, end, start, "COUNT", String(count)]));
  }

  async xdel(key: string, ids: string[]): Promise<number> {
    return ids.length === 0 ? 0 : Number(await this.connection.send("XDEL", [key, ...ids]));
  }

  async xlen(stream: string): Promise<number> {
    return Number(await this.connection.send("XLEN", [stream]));
  }

  /** XINFO GROUPS, each group as a record (name, pending, lag, entries-read, last-delivered-id …). */
  async xinfoGroups(stream: string): Promise<Record<string, unknown>[]> {
    const reply = await this.connection.send("XINFO", ["GROUPS", stream]);
    return Array.isArray(reply) ? reply.map(mapReply) : [];
  }

  async xinfoStream(stream: string): Promise<Record<string, unknown>> {
    return mapReply(await this.connection.send("XINFO", ["STREAM", stream]));
  }

  async xtrim(key: string, options: TrimOptions): Promise<number> {
    return Number(await this.connection.send(...commands.xtrim(key, options)));
  }

  async get(key: string): Promise<string | null> {
    const value = await this.connection.send("GET", [key]);
    return typeof value === "string" ? value : null;
  }

  /** True when the value was set (always, unless `onlyIfAbsent` and the key existed). */
  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    return (await this.connection.send(...commands.set(key, value, options))) === "OK";
  }

  /** Milliseconds the key has left; 0 when it is missing or has no expiry. */
  async pttl(key: string): Promise<number> {
    return Math.max(0, Number(await this.connection.send("PTTL", [key])));
  }

  async del(keys: string[]): Promise<number> {
    return Number(await this.connection.send("DEL", keys));
  }

  /** True when the key existed and now expires in `seconds`. */
  async expire(key: string, seconds: number): Promise<boolean> {
    return Number(await this.connection.send("EXPIRE", [key, String(seconds)])) === 1;
  }

  async hset(key: string, field: string, value: string): Promise<void> {
    await this.connection.send("HSET", [key, field, value]);
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return mapReply(await this.connection.send("HGETALL", [key])) as Record<string, string>;
  }

  async hdel(key: string, fields: string[]): Promise<void> {
    if (fields.length > 0) await this.connection.send("HDEL", [key, ...fields]);
  }

  /** Redis's clock, epoch ms: stream ids are made of it, not of this machine's clock. */
  async time(): Promise<number> {
    const [seconds, micros] = (await this.connection.send("TIME", [])) as [string, string];
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  /** INFO `section` of every master (on one Redis: of it). */
  async infoEveryMaster(section: string): Promise<string[]> {
    return (await this.connection.everyMaster("INFO", [section])).map(String);
  }

  /**
   * Runs a script on its key's node by SHA, sending its text once when the node lacks it. Several
   * keys only where they share a node (one Redis, or one hash slot).
   */
  async runScript(script: LuaScript, key: string | string[], args: string[]): Promise<unknown> {
    const keys = typeof key === "string" ? [key] : key;
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.connection.send("EVALSHA", [script.sha, ...tail]);
    } catch (error) {
      if (!isRedisError(error, "NOSCRIPT")) throw error;
      return await this.connection.send("EVAL", [script.lua, ...tail]);
    }
  }
}

/**
 * Commands that also travel inside transactions (the reply writer's batches), built in one place
 * whether they are sent alone or queued.
 */
export const commands = {
  xadd(key: string, fields: string[], { maxLength, noCreate }: XaddOptions = {}): Command {
    const args = [key];
    if (noCreate) args.push("NOMKSTREAM");
    if (maxLength !== undefined) args.push("MAXLEN", "~", String(maxLength));
    args.push("*");
    for (const field of fields) args.push(field);
    return ["XADD", args];
  },
  xack(stream: string, group: string, ids: string[]): Command {
    return ["XACK", [stream, group, ...ids]];
  },
  xtrim(key: string, { minId, maxLength, approximate }: TrimOptions): Command {
    const args = [key];
    if (minId !== undefined) args.push("MINID");
    else args.push("MAXLEN");
    if (approximate) args.push("~");
    args.push(minId ?? String(maxLength ?? 0));
    if (approximate) args.push("LIMIT", "0");
    return ["XTRIM", args];
  },
  set(key: string, value: string, { ttlS, ttlMs, onlyIfAbsent }: SetOptions = {}): Command {
    const args = [key, value];
    if (ttlS !== undefined) args.push("EX", String(ttlS));
    else if (ttlMs !== undefined) args.push("PX", String(ttlMs));
    if (onlyIfAbsent) args.push("NX");
    return ["SET", args];
  },
  expire(key: string, seconds: number): Command {
    return ["EXPIRE", [key, String(seconds)]];
  },
};
