import { describe, expect, test } from "bun:test";
import {
  decodeReply,
  decodeRequest,
  encodeReply,
  encodeRequest,
  isReplyEntry,
  MalformedMessageError,
  type ReplyMessage,
  type RequestMessage,
} from "@rsd/shared";

const request: RequestMessage = {
  id: "0190a8a0-0000-7000-8000-000000000001",
  replyTo: "rsd:replies:ingress-1-abc123",
  deadline: 1_764_150_000_000,
  enqueuedAt: 1_764_149_970_000,
  payload: '{"text":"a b  c | - m"}',
  attempt: 2,
  resultTtlS: 0,
  kind: "json",
  retrySafe: false,
};

describe("the stream encoding of messages", () => {
  test("a request round-trips, with and without its optional parts, as two fields", () => {
    const fields = encodeRequest(request);
    expect(fields).toHaveLength(4);
    expect(decodeRequest(fields)).toEqual(request);
    const full: RequestMessage = {
      ...request,
      replyTo: "",
      resultTtlS: 3600,
      kind: "http",
      retrySafe: true,
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    expect(decodeRequest(encodeRequest(full))).toEqual(full);
  });

  test("a reply round-trips with a result, with an error, and with neither", () => {
    const reply: ReplyMessage = {
      id: request.id,
      status: "completed",
      result: '{"echo":"x y"}',
      pod: "proxy-7f9c-2",
      terminal: 3,
      queuedMs: 12,
      processingMs: 150,
    };
    expect(isReplyEntry(encodeReply(reply))).toBe(true);
    expect(decodeReply(encodeReply(reply))).toEqual(reply);
    const failed: ReplyMessage = { ...reply, status: "failed", error: "boom: it failed" };
    delete failed.result;
    expect(decodeReply(encodeReply(failed))).toEqual(failed);
    const expired: ReplyMessage = { ...reply, status: "expired", terminal: -1 };
    delete expired.result;
    expect(decodeReply(encodeReply(expired))).toEqual(expired);
    // A result too large for the stream travels as a reference: the reference, not the result.
    const referenced: ReplyMessage = { ...reply, resultRef: "rsd:body:x" };
    expect(encodeReply(referenced)).toEqual(["m", expect.any(String), "ref", "rsd:body:x"]);
    const decoded = decodeReply(encodeReply(referenced));
    expect(decoded.resultRef).toBe("rsd:body:x");
    expect(decoded.result).toBeUndefined();
  });

  test("anything else is a MalformedMessageError that says what is wrong", () => {
    const meta = encodeRequest(request)[1] as string;
    const cases: [string[], RegExp][] = [
      [["id", "x", "payload", "{}"], /no "m" field/],
      [["m", meta.split(" ").slice(0, 8).join(" "), "payload", "{}"], /8 words, expected 9/],
      [["m", meta.replace(" 2 0 json", " two 0 json"), "payload", "{}"], /attempt is not a number/],
      [["m", meta], /payload missing/],
    ];
    for (const [fields, message] of cases) {
      expect(() => decodeRequest(fields)).toThrow(MalformedMessageError);
      expect(() => decodeRequest(fields)).toThrow(message);
    }
    const reply = encodeReply({
      id: "i",
      status: "completed",
      pod: "p",
      terminal: 1,
      queuedMs: 0,
      processingMs: 0,
    });
    expect(() => decodeReply(["m", (reply[1] as string).replace("completed", "done")])).toThrow(
      /unknown reply status done/,
    );
    expect(isReplyEntry(["created", "1764150000000"])).toBe(false);
    expect(isReplyEntry(null)).toBe(false);
  });

  test("a newer writer's extra trailing words are ignored (docs/contract.md, rolling upgrades)", () => {
    const [m, meta, ...body] = encodeRequest(request);
    expect(decodeRequest([m as string, `${meta} future-word 42`, ...body])).toEqual(
      decodeRequest(encodeRequest(request)),
    );
    const reply = encodeReply({
      id: "i",
      status: "failed",
      error: "e",
      pod: "p",
      terminal: -1,
      queuedMs: 1,
      processingMs: 2,
    });
    const [rm, rmeta, ...rbody] = reply;
    expect(decodeReply([rm as string, `${rmeta} extra`, ...rbody])).toEqual(decodeReply(reply));
  });
});
