import type { Server } from "bun";

/**
 * The TCP peer of each request, remembered by the server wrapper (which has the Bun server) for
 * handlers behind Elysia's fetch (which does not). Weak: it goes away with the request.
 */
const addresses = new WeakMap<Request, string>();

export function rememberClientAddress(request: Request, server: Server<undefined>): void {
  const address = server.requestIP(request)?.address;
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; X-Forwarded-For wants a.b.c.d.
  if (address) addresses.set(request, address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, "$1"));
}

export function clientAddressOf(request: Request): string | undefined {
  return addresses.get(request);
}
