import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { type AdminKey, adminKeyName, isAcceptedKey } from "@rsd/shared";
import { json } from "../http/json-response.ts";
import { loginPage } from "./pages.ts";

/** The console's session cookie (set by the login form; the Bearer header works without it). */
export const sessionCookie = "rsd_admin";
const sessionTtlS = 12 * 3600;

export interface AdminAccessOptions {
  adminKeys: readonly AdminKey[];
  /** The client keys (API_KEYS): they never open the console, they get 403. */
  clientKeyHashes: readonly Buffer[];
  /** ADMIN_SESSION_SECRET: replicas that share it accept each other's cookies. */
  sessionSecret?: string | undefined;
}

/**
 * Who may use /console and /api/admin: a request with `Authorization: Bearer <admin key>`, or
 * with the session cookie the login form sets (signed with ADMIN_SESSION_SECRET, which the
 * replicas share; without it, with a secret of this process, so a restart or another replica asks
 * to log in again). No key, or a wrong one: 401. A client key:
 * 403. With no keys of either kind configured (local development) everyone may: `open`.
 * With client keys but no admin keys, nobody may.
 */
export class AdminAccess {
  private readonly secret: Buffer;

  constructor(private readonly options: AdminAccessOptions) {
    this.secret = options.sessionSecret ? Buffer.from(options.sessionSecret) : randomBytes(32);
  }

  get open(): boolean {
    return this.options.adminKeys.length === 0 && this.options.clientKeyHashes.length === 0;
  }

  /** The admin key's name behind `request`, or the refusal to send. */
  check(request: Request): string | Response {
    if (this.open) return "anonymous";
    const header = request.headers.get("authorization");
    if (header !== null) {
      const token = /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
      const name = token === undefined ? undefined : adminKeyName(token, this.options.adminKeys);
      if (name !== undefined) return name;
      if (token !== undefined && isAcceptedKey(token, this.options.clientKeyHashes))
        return json(403, {
          error: "a client key does not open the console: use an admin key (ADMIN_API_KEYS)",
        });
      return this.unauthorized(request);
    }
    return this.sessionName(request) ?? this.unauthorized(request);
  }

  /** The admin key's name for `key`, when it is one (the login form). */
  nameOfKey(key: string): string | undefined {
    return adminKeyName(key, this.options.adminKeys);
  }

  /** The Set-Cookie value of a session for `name`. */
  sessionCookieFor(name: string, now = Date.now()): string {
    const expires = Math.floor(now / 1000) + sessionTtlS;
    const body = `${expires}.${Buffer.from(name).toString("base64url")}`;
    return `${sessionCookie}=${body}.${this.sign(body)}; Path=/; Max-Age=${sessionTtlS}; HttpOnly; SameSite=Strict`;
  }

  private sessionName(request: Request, now = Date.now()): string | undefined {
    const cookies = request.headers.get("cookie") ?? "";
    const value = cookies
      .split(";")
      .map((part) => part.trim())
      .find((part) => part.startsWith(`${sessionCookie}=`))
      ?.slice(sessionCookie.length + 1);
    const parts = value?.split(".");
    if (parts?.length !== 3) return undefined;
    const [expires, name, signature] = parts as [string, string, string];
    const expected = Buffer.from(this.sign(`${expires}.${name}`));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    if (Number(expires) * 1000 < now) return undefined;
    return Buffer.from(name, "base64url").toString();
  }

  private sign(body: string): string {
    return createHmac("sha256", this.secret).update(body).digest("base64url");
  }

  private unauthorized(request: Request): Response {
    const headers = { "www-authenticate": 'Bearer realm="redis-stream-demo admin"' };
    // A person opening the page gets the login form; scripts get the contract's JSON error.
    if ((request.headers.get("accept") ?? "").includes("text/html"))
      return new Response(loginPage(), {
        status: 401,
        headers: { ...headers, "content-type": "text/html; charset=utf-8", ...pageSecurityHeaders },
      });
    return json(
      401,
      { error: "missing or invalid admin key: send Authorization: Bearer <admin key>" },
      headers,
    );
  }
}

/** The console's pages load nothing from another origin, and are never framed. */
export const pageSecurityHeaders = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
};
