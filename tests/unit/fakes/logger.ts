import { type LogFields, Logger } from "@rsd/shared";

export interface LoggedLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: LogFields | undefined;
}

/** A Logger that keeps its lines for the test to read instead of writing them to stdout. */
export class RecordingLogger extends Logger {
  readonly lines: LoggedLine[] = [];

  constructor() {
    super("debug", {});
  }

  override child(): Logger {
    return this;
  }
  override debug(msg: string, fields?: LogFields): void {
    this.lines.push({ level: "debug", msg, fields });
  }
  override info(msg: string, fields?: LogFields): void {
    this.lines.push({ level: "info", msg, fields });
  }
  override warn(msg: string, fields?: LogFields): void {
    this.lines.push({ level: "warn", msg, fields });
  }
  override error(msg: string, fields?: LogFields): void {
    this.lines.push({ level: "error", msg, fields });
  }

  /** The messages logged at `level`. */
  at(level: LoggedLine["level"]): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.msg);
  }
}
