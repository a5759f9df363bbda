import { type Logger, PeriodicTask } from "@rsd/shared";
import { json } from "../http/json-response.ts";
import type { ConsoleSnapshot } from "./console-snapshot.ts";

export interface EventHubOptions {
  /** ADMIN_MAX_EVENT_CLIENTS: streams open at once. */
  maxClients: number;
  /** ADMIN_EVENT_BUFFER_BYTES: bytes queued for one client before it is dropped. */
  maxBufferedBytes: number;
  /** ADMIN_EVENT_INTERVAL_MS. */
  intervalMs: number;
  /** Computes one snapshot (once per tick, for every client). */
  snapshot: (clients: number) => Promise<ConsoleSnapshot>;
  /** The last minutes of traffic, sent once to a client when it connects. */
  history: () => unknown;
  logger: Logger;
}

interface Client {
  name: string;
  controller: ReadableStreamDefaultController<Uint8Array>;
}

const encoder = new TextEncoder();

function event(name: string, data: unknown): Uint8Array {
  return encoder.encode(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * The console's Server-Sent Events (GET /api/admin/events). One loop computes the snapshot once a
 * tick and hands the same bytes to every client; it runs only while somebody listens and stops
 * with the last client and at shutdown. Bounded: at most `maxClients` streams, and each stream
 * holds at most `maxBufferedBytes` that its client has not taken (measured by the stream's own
 * queue, which grows once the socket's buffers are full); a client past that is dropped.
 */
export class EventHub {
  private readonly clients = new Set<Client>();
  private readonly loop: PeriodicTask;
  private running = false;
  private stopped = false;

  constructor(private readonly options: EventHubOptions) {
    this.loop = new PeriodicTask("console events", options.intervalMs, () => this.tick(), options.logger);
  }

  get size(): number {
    return this.clients.size;
  }

  /** A new event stream for the admin key `name`, or 503 when the hub is full or stopping. */
  open(name: string): Response {
    if (this.stopped) return json(503, { error: "the ingress is shutting down" }, { "retry-after": "1" });
    if (this.clients.size >= this.options.maxClients)
      return json(
        503,
        { error: `too many console event streams (ADMIN_MAX_EVENT_CLIENTS = ${this.options.maxClients})` },
        { "retry-after": "5" },
      );
    let client: Client | undefined;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          client = { name, controller };
          this.clients.add(client);
          controller.enqueue(encoder.encode(`retry: 2000\n\n`));
          controller.enqueue(event("history", this.options.history()));
          this.startLoop();
        },
        cancel: () => {
          if (client) this.remove(client);
        },
      },
      { highWaterMark: this.options.maxBufferedBytes, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and the loop (shutdown: the server waits for open responses). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const client of [...this.clients]) {
      this.clients.delete(client);
      try {
        client.controller.close();
      } catch {
        // already closed by the client
      }
    }
    await this.stopLoop();
  }

  private startLoop(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.loop.start();
  }

  private async stopLoop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.loop.stop();
  }

  private remove(client: Client): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0) void this.stopLoop();
  }

  private async tick(): Promise<void> {
    if (this.clients.size === 0) return;
    const bytes = event("snapshot", await this.options.snapshot(this.clients.size));
    for (const client of [...this.clients]) {
      // desiredSize = bound − bytes the client has not taken yet: at or below zero, a whole bound
      // waits behind full socket buffers, so the client stopped reading. (A message larger than
      // the bound still goes to a client that keeps up: its queue is empty at each tick.)
      if ((client.controller.desiredSize ?? 0) <= 0) {
        this.options.logger.info("console event stream dropped: the client stopped reading", {
          admin: client.name,
          limitBytes: this.options.maxBufferedBytes,
        });
        this.remove(client);
        try {
          client.controller.error(new Error("client stopped reading"));
        } catch {
          // already gone
        }
        continue;
      }
      client.controller.enqueue(bytes);
    }
  }
}
