/**
 * A TCP port on 127.0.0.1 that is free right now: the kernel picks one for a throwaway listener,
 * which is closed again at once. Another process may take it before the caller binds it, so a
 * caller that can pick again should retry a start that fails.
 */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
