#!/usr/bin/env bun
/**
 * `bun run dlq -- list|show|replay|purge …`: the dead-letter operations of the console, for
 * scripts and runbooks, through the protocol module (shared/src/protocol/dead-letters.ts).
 */
import {
  ConfigError,
  connectRedis,
  createLogger,
  DeadLetters,
  loadIngressConfig,
  StreamKeys,
} from "@rsd/shared";
import { CommanderError } from "commander";
import { type DlqCommand, parseDlqCommand } from "./args.ts";
import { printLetters } from "./print.ts";

async function run(command: DlqCommand): Promise<void> {
  let config: ReturnType<typeof loadIngressConfig>;
  try {
    config = loadIngressConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`dlq: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger("error", "dlq", config.podName);
  const client = connectRedis(config, { role: "commands", name: `dlq:${config.podName}`, logger });
  try {
    if (!(await client.waitUntilReady(5000))) throw new Error("Redis did not answer within 5 s");
    const letters = new DeadLetters({
      client,
      keys: new StreamKeys(config.streamPrefix, config.streamShards),
      // TENANT_LANES as the ingress has it: a tenant's request is replayed onto its lane.
      lanes: config.tenantLanes,
    });
    if (command.name === "list") {
      const [page, total] = await Promise.all([
        letters.page({ count: command.count, ...(command.after ? { after: command.after } : {}) }),
        letters.count(),
      ]);
      printLetters({ ...page, total }, command.json);
    } else if (command.name === "show") {
      const letter = await letters.get(command.entryId);
      if (!letter) throw new Error(`no dead letter ${command.entryId}`);
      console.log(JSON.stringify(letter, null, 2));
    } else if (command.entryIds.length > 0) {
      for (const id of command.entryIds) {
        const outcome =
          command.name === "replay"
            ? await letters.replay(id)
            : { status: (await letters.remove([id])) === 1 ? "deleted" : "missing" };
        console.log(`${id}\t${outcome.status}${"requestId" in outcome ? `\t${outcome.requestId}` : ""}`);
      }
    } else {
      const action = command.name;
      const outcome = await letters.bulk({ action, filter: command.filter, max: command.max });
      console.log(JSON.stringify(outcome));
    }
  } finally {
    client.close();
  }
}

try {
  await parseDlqCommand(process.argv.slice(2), async (command) => {
    try {
      await run(command);
    } catch (error) {
      console.error(`dlq: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    }
  });
  process.exit(0);
} catch (error) {
  // Commander has printed the usage error (or the help) already.
  if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : 2);
  throw error;
}
