import { afterEach, describe, expect, test } from "bun:test";
import { type AddressInfo, createServer, type Server } from "node:net";
import { createLogger, type ForwardedRequest, type ForwardedResponse, type LogFields } from "@rsd/shared";
import { UnrecoverableError } from "../../proxy/src/handlers/handler.ts";
import { HttpHandler, RetryableUpstreamError } from "../../proxy/src/handlers/http.ts";

/**
 * The http handler against a raw TCP backend that answers exactly `answer` (bytes Bun.serve would
 * never send: a cut-off body, hop-by-hop headers) and then closes.
 */
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

async function handlerFor(answer: string) {
  server = createServer((socket) => {
    socket.once("data", () => socket.end(answer, () => socket.destroy()));
  });
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
  const { port } = listening.address() as AddressInfo;
  const warned: LogFields[] = [];
  const logger = createLogger("error", "proxy", "test");
  logger.warn = (msg: string, fields?: LogFields) => void warned.push({ msg, ...fields });
  const handler = new HttpHandler({
    upstreamUrl: `http://127.0.0.1:${port}`,
    upstreamHeaders: {},
    maxDeliveries: 3,
    maxResponseBytes: 1024 * 1024,
    logger,
  });
  const forwarded: ForwardedRequest = { method: "GET", path: "/x", query: "", headers: [], body: "" };
  const attempt = (number: number) =>
    handler.handle({
      id: `r-${number}`,
      payload: JSON.stringify(forwarded),
      deadline: Date.now() + 10_000,
      signal: new AbortController().signal,
      attempt: number,
      kind: "http",
      retrySafe: true,
    });
  return { attempt, warned };
}

describe("HttpHandler against a raw backend", () => {
  test("a connection lost halfway through the answer → a generic error (retryable while attempts remain), the cause logged", async () => {
    const { attempt, warned } = await handlerFor("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhalf a bo");
    const last = await attempt(3).catch((error: unknown) => error);
    expect(last).toBeInstanceOf(UnrecoverableError);
    expect((last as Error).message).toBe("upstream connection lost while answering");
    expect(await attempt(1).catch((error: unknown) => error)).toBeInstanceOf(RetryableUpstreamError);
    expect(warned.map((line) => line.msg)).toEqual([
      "upstream connection lost while answering",
      "upstream connection lost while answering",
    ]);
    expect(typeof warned[0]?.cause).toBe("string");
  });

  test("the upstream's hop-by-hop headers, and those its Connection header names, stay behind", async () => {
    const { attempt } = await handlerFor(
      "HTTP/1.1 200 OK\r\nConnection: close, X-Internal-Hop\r\nX-Internal-Hop: secret\r\n" +
        "Proxy-Authenticate: Basic realm=internal\r\nProxy-Connection: keep-alive\r\nTrailer: X-Checksum\r\n" +
        "Keep-Alive: timeout=5\r\nX-Kept: yes\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
    );
    const answer = JSON.parse(await attempt(1)) as ForwardedResponse;
    expect(answer.headers.toSorted()).toEqual([
      ["set-cookie", "a=1"],
      ["set-cookie", "b=2"],
      ["x-kept", "yes"],
    ]);
    expect(Buffer.from(answer.body, "base64").toString()).toBe("ok");
  });
});
