import { UnrecoverableError } from "./handler.ts";

/**
 * Where a forwarded request goes: always UPSTREAM_URL's scheme, host and port, whatever the
 * client's path and query hold. The URL is built by the WHATWG URL setters from a parsed base,
 * never by concatenating strings (the path `@evil.com:1234/x` after `http://upstream:8080` once
 * made `http://upstream:8080@evil.com:1234/x`), and checked before anything is sent: a path that
 * would leave the origin, carry credentials, or climb out of UPSTREAM_URL's own path with `..`
 * (plain or percent-encoded) is refused.
 */
/** Control characters, spaces, DEL and backslashes have no place in a request path. */
function hasControlSpaceOrBackslash(path: string): boolean {
  for (let index = 0; index < path.length; index++) {
    const code = path.charCodeAt(index);
    if (code <= 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}

export class UpstreamTarget {
  private readonly base: URL;
  /** UPSTREAM_URL's path without its trailing slash ("" for the root). */
  private readonly basePath: string;

  constructor(upstreamUrl: string) {
    this.base = new URL(upstreamUrl);
    this.basePath = this.base.pathname.replace(/\/+$/, "");
  }

  /** The base itself, for requests with no path of their own (POST /api/requests payloads). */
  get root(): string {
    return `${this.base.origin}${this.basePath || "/"}${this.base.search}`;
  }

  /** The upstream URL for a client's `path` (after /proxy, starting with "/") and raw `query`. */
  urlFor(path: string, query: string): string {
    if (!path.startsWith("/") || hasControlSpaceOrBackslash(path))
      throw new UnrecoverableError("refused: the forwarded path is not a plain absolute path");
    const url = new URL(this.base.href);
    url.pathname = `${this.basePath}${path}`;
    url.search = query;
    url.hash = "";
    const insideBase =
      this.basePath === "" || url.pathname === this.basePath || url.pathname.startsWith(`${this.basePath}/`);
    if (url.origin !== this.base.origin || url.username !== "" || url.password !== "" || !insideBase)
      throw new UnrecoverableError("refused: the forwarded path would leave UPSTREAM_URL");
    return url.href;
  }
}
