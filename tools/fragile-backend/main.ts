import { CommanderError } from "commander";
import { parseArgs } from "./args.ts";
import { FragileBackend } from "./backend.ts";

/** `bun run fragile-backend -- --knee 16 --base-ms 40 …`: see `--help`. */
let args: ReturnType<typeof parseArgs>;
try {
  args = parseArgs(process.argv.slice(2));
} catch (error) {
  process.exit(error instanceof CommanderError ? error.exitCode : 2);
}

const backend = new FragileBackend({
  host: args.host,
  port: args.port,
  settings: args.settings,
  maxInflight: args.maxInflight,
  throttleRetryAfterS: args.throttleRetryAfterS,
});
const startedAt = Date.now();
for (const { startMs, durationMs } of args.outages) backend.outageFor(durationMs, startedAt + startMs);
for (const { startMs, durationMs } of args.throttles)
  backend.throttles.add({ from: startedAt + startMs, until: startedAt + startMs + durationMs });
const timers = args.kneeChanges.map(({ atMs, knee }) =>
  setTimeout(() => {
    backend.settings.knee = knee;
    log("knee changed", { knee });
  }, atMs),
);

function log(msg: string, fields: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ time: new Date().toISOString(), msg, ...fields }));
}

const stop = () => {
  for (const timer of timers) clearTimeout(timer);
  backend.stop();
  log("fragile backend stopped", { calls: backend.stats.calls });
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (args.durationS > 0) setTimeout(stop, args.durationS * 1000);
log("fragile backend listening", { url: backend.url, ...args.settings });
