import { timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { hashApiKey } from "./api-keys.ts";
import { ConfigError, type Env } from "./config-parse.ts";

/** An operator key of the console and /api/admin: its name (for the logs) and its SHA-256 digest. */
export interface AdminKey {
  name: string;
  hash: Buffer;
}

const namePattern = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The operator keys: `ADMIN_API_KEYS` (comma-separated `name:key`, or a bare key named
 * `admin-<position>`; keys of at least 16 characters) and/or `ADMIN_API_KEYS_FILE` (one
 * `<name> <sha256 hex>` or bare `<sha256 hex>` per line, `#` comments). The same formats as the
 * client keys (api-keys.ts), with a name that the logs show instead of the key.
 */
export function readAdminKeys(env: Env): AdminKey[] {
  const keys: AdminKey[] = [];
  const inline = env.ADMIN_API_KEYS?.trim();
  if (inline) {
    for (const [index, entry] of inline.split(",").entries()) {
      const text = entry.trim();
      const colon = text.indexOf(":");
      const named = colon > 0 && namePattern.test(text.slice(0, colon));
      const key = named ? text.slice(colon + 1) : text;
      if (key.length < 16)
        throw new ConfigError(
          "ADMIN_API_KEYS",
          "<hidden>",
          "comma-separated name:key entries (name: 1-64 letters, digits, - _ .; key: at least 16 characters)",
        );
      keys.push({ name: named ? text.slice(0, colon) : `admin-${index + 1}`, hash: hashApiKey(key) });
    }
  }
  const file = env.ADMIN_API_KEYS_FILE?.trim();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new ConfigError("ADMIN_API_KEYS_FILE", file, "the path of a readable file");
    }
    for (const [index, raw] of text.split("\n").entries()) {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) continue;
      const match = /^(?:([A-Za-z0-9._-]{1,64})\s+)?([0-9a-fA-F]{64})$/.exec(line);
      if (!match) throw new ConfigError("ADMIN_API_KEYS_FILE", file, "one '[<name> ]<sha256 hex>' per line");
      keys.push({ name: match[1] ?? `file-line-${index + 1}`, hash: Buffer.from(match[2] as string, "hex") });
    }
  }
  return keys;
}

/** The name of the admin key `presented` is, or undefined; every digest is compared, in constant time. */
export function adminKeyName(presented: string, keys: readonly AdminKey[]): string | undefined {
  const digest = hashApiKey(presented);
  let name: string | undefined;
  for (const key of keys) if (timingSafeEqual(digest, key.hash)) name ??= key.name;
  return name;
}

/**
 * ADMIN_SESSION_SECRET: what signs the console's login cookie. Every ingress replica given the
 * same secret accepts a cookie any of them set; unset, each process draws its own at start, so a
 * login holds on the replica that made it only (the Bearer header works everywhere regardless).
 * At least 32 characters; never printed.
 */
export function readAdminSessionSecret(env: Env): string | undefined {
  const value = env.ADMIN_SESSION_SECRET?.trim();
  if (!value) return undefined;
  if (value.length < 32)
    throw new ConfigError(
      "ADMIN_SESSION_SECRET",
      "<hidden>",
      "at least 32 characters (unset: one per process)",
    );
  return value;
}
