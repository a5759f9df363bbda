import { accessSync, constants } from "node:fs";

/**
 * Small, strict readers for environment variables. Each failure names the variable, the value
 * and what is allowed, so a misconfigured pod says exactly what is wrong in one log line.
 */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly value: string,
    readonly allowed: string,
  ) {
    super(`invalid ${variable}=${JSON.stringify(value)}: expected ${allowed}`);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

export function readInt(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const allowed = `an integer from ${min} to ${max}`;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, value, allowed);
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max)
    throw new ConfigError(name, value, allowed);
  return parsed;
}

export function readEnum<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new ConfigError(name, value, `one of ${choices.join(" | ")}`);
  }
  return value as T;
}

export function readString(
  env: Env,
  name: string,
  fallback: string,
  pattern: RegExp,
  allowed: string,
): string {
  const value = raw(env, name) ?? fallback;
  if (!pattern.test(value)) throw new ConfigError(name, value, allowed);
  return value;
}

export function readUrl(
  env: Env,
  name: string,
  fallback: string | undefined,
  protocols: readonly string[],
): string {
  const value = raw(env, name) ?? fallback;
  const allowed = `a URL with scheme ${protocols.map((p) => `${p}//`).join(" or ")}`;
  if (value === undefined) throw new ConfigError(name, "", `${allowed} (required)`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, hideUserinfo(value), allowed);
  }
  if (!protocols.includes(url.protocol) || url.hostname === "")
    throw new ConfigError(name, hideUserinfo(value), allowed);
  return value;
}

/** A JSON object of header names to string values, e.g. {"authorization":"Bearer …"}. The value is never echoed. */
export function readHeaderMap(env: Env, name: string): Record<string, string> {
  const value = raw(env, name);
  if (value === undefined) return {};
  const allowed = 'a JSON object of header names to strings, e.g. {"authorization":"Bearer …"}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(name, "<hidden>", allowed);
  }
  const valid =
    parsed !== null &&
    typeof parsed === "object" &&
    !Array.isArray(parsed) &&
    Object.entries(parsed).every(
      ([key, header]) => /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key) && typeof header === "string",
    );
  if (!valid) throw new ConfigError(name, "<hidden>", allowed);
  return Object.fromEntries(
    Object.entries(parsed as Record<string, string>).map(([key, header]) => [key.toLowerCase(), header]),
  );
}

/** An optional path to a file that must exist and be readable now, not at first use. */
export function readReadableFile(env: Env, name: string): string | undefined {
  const value = raw(env, name);
  if (value === undefined) return undefined;
  try {
    accessSync(value, constants.R_OK);
  } catch {
    throw new ConfigError(name, value, "the path of a readable file");
  }
  return value;
}

/** Comma-separated `host:port` pairs, e.g. "redis-0:6379,redis-1:6379"; empty when unset. */
export function readHostList(env: Env, name: string): { host: string; port: number }[] {
  const value = raw(env, name);
  if (value === undefined) return [];
  const allowed = "comma-separated host:port pairs, e.g. redis-0:6379,redis-1:6379";
  return value.split(",").map((entry) => {
    const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new ConfigError(name, value, allowed);
    return { host: (match[1] as string).replace(/^\[|\]$/g, ""), port };
  });
}

/**
 * Hides the user and password of a URL-like text, parsed or not: everything between `//` and the
 * last `@` of the authority. A value that does not parse as a URL is exactly the one an error
 * message echoes, so this works on the text, not on a parsed URL.
 */
export function hideUserinfo(value: string): string {
  const start = value.indexOf("//");
  if (start < 0) return value.includes("@") ? "<hidden>" : value;
  const at = value.lastIndexOf("@");
  if (at < start) return value;
  return `${value.slice(0, start + 2)}***${value.slice(at)}`;
}

/** Hides the password of a URL for logs and error messages. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return hideUserinfo(value);
  }
}
