/** Calls `onLine` with every line of `stream` (a last line without a newline too); resolves at its end. */
export async function readLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) onLine(line);
  }
  buffered += decoder.decode();
  if (buffered) onLine(buffered);
}

/** The last lines of a process's output, at most about `keep` of them, so a long run stays flat. */
export class OutputTail {
  readonly lines: string[] = [];

  constructor(private readonly keep = Number.POSITIVE_INFINITY) {}

  push(line: string): void {
    this.lines.push(line);
    // Trimmed in batches, not on every line.
    if (this.lines.length > 2 * this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  /** The last `count` lines, one a line, for an error message. */
  last(count = 10): string {
    return this.lines.slice(-count).join("\n");
  }
}
