import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, type Env } from "./config-parse.ts";
import { defaultTenant, isTenantName, tenantNameRule } from "./protocol/tenant.ts";

/** Keys are compared as SHA-256 digests: equal length, so the comparison can be constant-time. */
export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/** An accepted key (as its digest) and the tenant it names. */
export interface ApiKey {
  hash: Buffer;
  tenant: string;
}

/**
 * An `API_KEYS` entry: `tenant:key` when what comes before the first `:` is a tenant name (then
 * the rest must be a whole key: a short one is an error, never silently a `default` key);
 * otherwise a plain key of tenant `default`, as before tenants.
 */
function inlineKey(entry: string): ApiKey | undefined {
  const colon = entry.indexOf(":");
  const tenant = colon > 0 ? entry.slice(0, colon) : "";
  if (isTenantName(tenant))
    return entry.length - colon - 1 >= 16 ? { hash: hashApiKey(entry.slice(colon + 1)), tenant } : undefined;
  return entry.length >= 16 ? { hash: hashApiKey(entry), tenant: defaultTenant } : undefined;
}

/** An `API_KEYS_FILE` line: `<sha256 hex>` (tenant `default`) or `<tenant> <sha256 hex>`. */
function fileKey(line: string): ApiKey | undefined {
  const words = line.split(/\s+/);
  const [tenant, hex] = words.length === 1 ? [defaultTenant, words[0] as string] : words;
  if (words.length > 2 || !tenant || !isTenantName(tenant) || !hex || !/^[0-9a-f]{64}$/i.test(hex))
    return undefined;
  return { hash: Buffer.from(hex, "hex"), tenant };
}

/**
 * The accepted client keys and their tenants: `API_KEYS` (comma-separated `key` or `tenant:key`)
 * and/or `API_KEYS_FILE` (one `<sha256 hex>` or `<tenant> <sha256 hex>` per line, `#` comments
 * allowed — so a mounted Secret need not hold the keys in clear). Neither set: client
 * authentication is off. Key values never appear in errors.
 */
export function readApiKeys(env: Env): ApiKey[] {
  const keys: ApiKey[] = [];
  const inline = env.API_KEYS?.trim();
  if (inline) {
    for (const entry of inline.split(",").map((key) => key.trim())) {
      const key = inlineKey(entry);
      if (!key)
        throw new ConfigError(
          "API_KEYS",
          "<hidden>",
          `comma-separated keys of at least 16 characters each, or tenant:key with a tenant of ${tenantNameRule}`,
        );
      keys.push(key);
    }
  }
  const file = env.API_KEYS_FILE?.trim();
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      throw new ConfigError("API_KEYS_FILE", file, "the path of a readable file");
    }
    for (const line of text.split("\n").map((entry) => entry.trim())) {
      if (line === "" || line.startsWith("#")) continue;
      const key = fileKey(line);
      if (!key)
        throw new ConfigError(
          "API_KEYS_FILE",
          file,
          `one SHA-256 hex digest (64 hex digits) per line, optionally after a tenant name (${tenantNameRule}) and a space`,
        );
      keys.push(key);
    }
  }
  return keys;
}

/** The accepted keys' digests (see readApiKeys). */
export function readApiKeyHashes(env: Env): Buffer[] {
  return readApiKeys(env).map((key) => key.hash);
}

/** True when `presented` is one of the keys; every stored digest is compared, in constant time. */
export function isAcceptedKey(presented: string, hashes: readonly Buffer[]): boolean {
  const digest = hashApiKey(presented);
  let accepted = false;
  for (const hash of hashes) accepted = timingSafeEqual(digest, hash) || accepted;
  return accepted;
}
