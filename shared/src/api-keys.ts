import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { ConfigError, type Env } from "./config-parse.ts";

/** Keys are compared as SHA-256 digests: equal length, so the comparison can be constant-time. */
export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

/**
 * The accepted client keys: `API_KEYS` (comma-separated keys) and/or `API_KEYS_FILE` (one
 * SHA-256 hex digest per line, `#` comments allowed — so a mounted Secret need not hold the keys
 * in clear). Neither set: client authentication is off. Key values never appear in errors.
 */
export function readApiKeyHashes(env: Env): Buffer[] {
  const hashes: Buffer[] = [];
  const inline = env.API_KEYS?.trim();
  if (inline) {
    const keys = inline.split(",").map((key) => key.trim());
    if (keys.some((key) => key.length < 16)) {
      throw new ConfigError("API_KEYS", "<hidden>", "comma-separated keys of at least 16 characters each");
    }
    hashes.push(...keys.map(hashApiKey));
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
      if (!/^[0-9a-f]{64}$/i.test(line)) {
        throw new ConfigError("API_KEYS_FILE", file, "one SHA-256 hex digest (64 hex digits) per line");
      }
      hashes.push(Buffer.from(line, "hex"));
    }
  }
  return hashes;
}

/** True when `presented` is one of the keys; every stored digest is compared, in constant time. */
export function isAcceptedKey(presented: string, hashes: readonly Buffer[]): boolean {
  const digest = hashApiKey(presented);
  let accepted = false;
  for (const hash of hashes) accepted = timingSafeEqual(digest, hash) || accepted;
  return accepted;
}
