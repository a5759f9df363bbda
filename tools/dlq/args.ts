import { deadLetterBulkMax, deadLetterPageMax, isStreamEntryId } from "@rsd/shared";
import { Command, InvalidArgumentError, Option } from "commander";

/** One dlq command, parsed and validated. */
export type DlqCommand =
  | { name: "list"; count: number; after?: string; json: boolean }
  | { name: "show"; entryId: string }
  | {
      name: "replay" | "purge";
      entryIds: string[];
      filter: { errorContains?: string; olderThanMs?: number };
      all: boolean;
      max: number;
    };

function intIn(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max)
      throw new InvalidArgumentError(`${name} must be an integer ${min}…${max}.`);
    return Number(value);
  };
}

function entryId(value: string): string {
  if (!isStreamEntryId(value))
    throw new InvalidArgumentError(`'${value}' is not a stream entry id (<ms>-<seq>).`);
  return value;
}

/**
 * `bun run dlq -- list|show|replay|purge …`: the console's dead-letter operations from a terminal.
 * Redis is named by the services' own variables (REDIS_URL, STREAM_PREFIX, STREAM_SHARDS, …).
 */
export async function parseDlqCommand(
  argv: string[],
  run: (command: DlqCommand) => Promise<void>,
): Promise<Command> {
  const program = new Command("dlq")
    .description(
      "Read, replay and delete dead letters (<prefix>:dead). Uses REDIS_URL, STREAM_PREFIX, STREAM_SHARDS.",
    )
    .exitOverride()
    .showHelpAfterError();
  program
    .command("list")
    .description("dead letters, newest first")
    .addOption(
      new Option("-n, --count <n>", "how many").argParser(intIn("--count", 1, deadLetterPageMax)).default(20),
    )
    .addOption(
      new Option("--after <entryId>", "older than this entry (the `next` of a page)").argParser(entryId),
    )
    .option("--json", "print JSON", false)
    .action((options: { count: number; after?: string; json: boolean }) =>
      run({
        name: "list",
        count: options.count,
        json: options.json,
        ...(options.after ? { after: options.after } : {}),
      }),
    );
  program
    .command("show")
    .description("one dead letter with its payload, as JSON")
    .argument("<entryId>", "the letter's id", entryId)
    .action((id: string) => run({ name: "show", entryId: id }));
  for (const name of ["replay", "purge"] as const)
    program
      .command(name)
      .description(
        name === "replay"
          ? "re-enqueue letters as fresh requests (attempt 1, a new deadline), then delete them"
          : "delete letters",
      )
      .argument(
        "[entryIds...]",
        "letters by id; or select them with the options below",
        (value, previous: string[] = []) => [...previous, entryId(value)],
      )
      .addOption(new Option("--error <text>", "the last error contains this text (case-insensitive)"))
      .addOption(
        new Option("--older-than <s>", "dead-lettered at least this many seconds ago").argParser(
          intIn("--older-than", 0, 2 ** 31),
        ),
      )
      .option("--all", "every letter (no condition)", false)
      .addOption(
        new Option("--max <n>", "at most this many letters")
          .argParser(intIn("--max", 1, deadLetterBulkMax))
          .default(100),
      )
      .action(
        async (
          ids: string[] | undefined,
          options: { error?: string; olderThan?: number; all: boolean; max: number },
        ) => {
          const filter: { errorContains?: string; olderThanMs?: number } = {};
          if (options.error !== undefined) filter.errorContains = options.error;
          if (options.olderThan !== undefined) filter.olderThanMs = options.olderThan * 1000;
          const entryIds = ids ?? [];
          const selects = Object.keys(filter).length > 0 || options.all;
          if (entryIds.length === 0 && !selects)
            program.error("dlq: name letters by id, or select them with --error, --older-than or --all.");
          if (entryIds.length > 0 && selects)
            program.error("dlq: either letters by id, or --error/--older-than/--all, not both.");
          await run({ name, entryIds, filter, all: options.all, max: options.max });
        },
      );
  await program.parseAsync(argv, { from: "user" });
  return program;
}
