import { describe, expect, test } from "bun:test";
import { decodeHeartbeat, encodeHeartbeat, heartbeatFormatVersion } from "@rsd/shared";

describe("the fleet heartbeat with the concurrency limit (format version 1, appended)", () => {
  test("round-trips the limit", () => {
    const beat = {
      pod: "p",
      terminals: 64,
      busy: 3,
      handler: "http",
      processingMs: null,
      seenAt: 1,
      limit: 9,
    };
    expect(decodeHeartbeat(encodeHeartbeat(beat))).toEqual(beat);
    expect(heartbeatFormatVersion).toBe(1);
  });

  test("an older proxy's heartbeat (no limit) reads as its terminals; unknown properties are ignored", () => {
    const old = JSON.stringify({
      pod: "p",
      terminals: 5,
      busy: 1,
      handler: "simulate",
      processingMs: 150,
      seenAt: 2,
    });
    expect(decodeHeartbeat(old)?.limit).toBe(5);
    const newer = JSON.stringify({ pod: "p", terminals: 5, busy: 1, seenAt: 2, limit: 3, future: { x: 1 } });
    expect(decodeHeartbeat(newer)).toMatchObject({ pod: "p", limit: 3 });
    expect(
      decodeHeartbeat(JSON.stringify({ pod: "p", terminals: 5, busy: 1, seenAt: 2, limit: "3" }))?.limit,
    ).toBe(5);
  });
});
