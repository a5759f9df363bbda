/**
 * Bun's fetch runs at most 256 requests at once per process (BUN_CONFIG_MAX_HTTP_REQUESTS, read
 * once at start-up; setting it later has no effect). A run asking for more connections would
 * silently queue inside the client and measure that queue instead of the server, so the tool
 * restarts itself with the limit raised before sending anything.
 */
const BUN_DEFAULT_MAX_HTTP_REQUESTS = 256;
const BUN_MAX_HTTP_REQUESTS = 65_535;
/** Room for the side requests (GET /api/fleet, polling) next to the load itself. */
const HEADROOM = 16;

export function requiredHttpRequests(connections: number): number {
  return Math.min(BUN_MAX_HTTP_REQUESTS, connections + HEADROOM);
}

export function currentHttpRequestLimit(): number {
  const configured = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS);
  return Number.isInteger(configured) && configured > 0 ? configured : BUN_DEFAULT_MAX_HTTP_REQUESTS;
}

/** Re-runs this process with a high enough limit when needed; resolves to the child's exit code, or null to go on here. */
export async function reexecWithConnectionCap(connections: number): Promise<number | null> {
  const needed = requiredHttpRequests(connections);
  if (currentHttpRequestLimit() >= needed) return null;
  const child = Bun.spawn([process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, BUN_CONFIG_MAX_HTTP_REQUESTS: String(needed) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  // Ctrl-C reaches the whole process group already; a plain SIGTERM to us must reach the child too.
  const forward = () => child.kill("SIGTERM");
  process.on("SIGTERM", forward);
  process.on("SIGINT", () => {});
  const code = await child.exited;
  process.off("SIGTERM", forward);
  return code;
}
