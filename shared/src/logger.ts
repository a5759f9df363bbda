import type { LogLevel } from "./config.ts";

const severity: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

/**
 * A JSON-lines logger. Lines are buffered and written once per event-loop turn, so logging one
 * line per request costs a string build, not a syscall.
 */
export class Logger {
  private static pending: string[] = [];
  private static scheduled = false;

  constructor(
    private readonly level: LogLevel,
    private readonly base: LogFields,
  ) {}

  child(fields: LogFields): Logger {
    return new Logger(this.level, { ...this.base, ...fields });
  }

  enabled(level: LogLevel): boolean {
    return severity[level] >= severity[this.level];
  }

  debug(msg: string, fields?: LogFields): void {
    this.write("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.write("error", msg, fields);
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.enabled(level)) return;
    const line = JSON.stringify(
      { time: new Date().toISOString(), level, ...this.base, msg, ...fields },
      errorReplacer,
    );
    Logger.pending.push(line);
    if (!Logger.scheduled) {
      Logger.scheduled = true;
      setImmediate(Logger.flush);
    }
  }

  /** Writes buffered lines now (also used right before the process exits). */
  static flush(): void {
    Logger.scheduled = false;
    if (Logger.pending.length === 0) return;
    const text = `${Logger.pending.join("\n")}\n`;
    Logger.pending = [];
    process.stdout.write(text);
  }
}

/**
 * Errors become `{name, message}`: enough for the expected failures logged at warn. A caller that
 * needs the stack (an unhandled error answered 500) logs it as a field of its own (`stack`).
 */
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export function createLogger(level: LogLevel, service: string, pod: string): Logger {
  return new Logger(level, { service, pod });
}
