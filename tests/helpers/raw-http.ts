import { connect, type Socket } from "node:net";

/** One HTTP/1.x answer as it came off the wire. */
export interface RawAnswer {
  /** The status code, or 0 when the server closed without answering. */
  status: number;
  head: string;
  body: string;
}

/**
 * Writes `bytes` to a fresh TCP connection exactly as given and reads the first answer. fetch()
 * normalises request lines, Host headers and paths away; attacks on the request target need the
 * bytes themselves. Resolves when the first answer is complete (Content-Length), the server
 * closes, or `timeoutMs` passes.
 */
export function rawRequest(port: number, bytes: string, timeoutMs = 5_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parseAnswer(received.toString("latin1")));
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (isComplete(received.toString("latin1"))) finish();
    });
    socket.on("end", finish);
    socket.on("close", finish);
    socket.on("error", finish);
    socket.write(bytes, "latin1");
  });
}

function isComplete(text: string): boolean {
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return false;
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(text.slice(0, end));
  return length ? text.length - end - 4 >= Number(length[1]) : false;
}

function parseAnswer(text: string): RawAnswer {
  const end = text.indexOf("\r\n\r\n");
  const head = end < 0 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: end < 0 ? "" : text.slice(end + 4) };
}

/** A connection the test keeps open, and a promise that settles when the server closes it. */
export interface HeldConnection {
  socket: Socket;
  closed: Promise<void>;
  /** Everything the server sent so far. */
  received(): string;
}

export function holdConnection(port: number, bytes?: string): Promise<HeldConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const closed = new Promise<void>((done) => socket.on("close", () => done()));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
    });
    socket.once("error", reject);
    socket.once("connect", () => {
      if (bytes !== undefined) socket.write(bytes, "latin1");
      resolve({ socket, closed, received: () => received });
    });
  });
}
