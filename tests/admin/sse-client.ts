/** A Server-Sent Events reader over fetch, for tests: collects the events it has read. */
export class SseClient {
  readonly events: { event: string; data: unknown }[] = [];
  /** The JSON body of a refusal (status other than 200). */
  body: unknown;
  /** Settles when the server ended the stream (or the test closed it). */
  ended: Promise<void> = Promise.resolve();

  private constructor(
    readonly status: number,
    private readonly controller: AbortController,
  ) {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    const client = new SseClient(response.status, controller);
    if (response.status !== 200) client.body = await response.json().catch(() => null);
    else client.ended = client.read(response.body as ReadableStream<Uint8Array>);
    return client;
  }

  /** The data of the snapshot events read so far. */
  snapshots<T = Record<string, unknown>>(): T[] {
    return this.events.filter((event) => event.event === "snapshot").map((event) => event.data as T);
  }

  close(): void {
    this.controller.abort();
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data !== undefined) this.events.push({ event, data: JSON.parse(data) });
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // closed by the test or by the server
    }
  }
}
