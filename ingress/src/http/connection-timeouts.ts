import type { Server } from "bun";

/** Bun takes a per-request idle timeout of at most 255 s; 0 turns it off. */
const maxTimeoutS = 255;

/**
 * Bun's idle timeout (IDLE_TIMEOUT_S) closes a connection on which nothing moves: idle
 * keep-alive sockets, bodies that stall halfway, clients that were refused. Only a request that
 * is legitimately waiting for its reply is exempt, and only until its own deadline (the
 * gateway's deadline sweep answers first); once it is answered, the connection falls back to the
 * idle timeout for whatever follows on it.
 */
export class ConnectionTimeouts {
  private server: Server<undefined> | undefined;

  constructor(private readonly idleTimeoutS: number) {}

  attach(server: Server<undefined>): void {
    this.server = server;
  }

  /** `request` waits for its reply until `deadline` (epoch ms): no idle cut-off before then. */
  holdUntil(request: Request, deadline: number): void {
    // One second past the deadline: the gateway's own answer (504) always comes first.
    const seconds = Math.ceil((deadline - Date.now()) / 1000) + 1;
    this.server?.timeout(request, seconds > maxTimeoutS ? 0 : Math.max(seconds, this.idleTimeoutS));
  }

  /**
   * `request` is a long-lived stream (the console's events): no idle cut-off; the stream itself
   * drops a client that stops reading (admin/event-hub.ts).
   */
  holdOpen(request: Request): void {
    this.server?.timeout(request, 0);
  }

  /** `request` is answered: its keep-alive connection is idle from now on. */
  release(request: Request): void {
    this.server?.timeout(request, this.idleTimeoutS);
  }
}
