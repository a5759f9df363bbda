import { describe, expect, test } from "bun:test";
import { buildProgram, parseErrorRate, parseOptions } from "../../tools/load-test/args.ts";

const parse = (...argv: string[]) =>
  parseOptions(
    argv,
    buildProgram()
      .exitOverride()
      .configureOutput({ writeErr: () => {} }),
  );

describe("load tester options", () => {
  test("defaults are the seed's: sequential, 10 requests, local URL, 30 s timeout, 1% error budget", () => {
    expect(parse()).toMatchObject({
      mode: "sequential",
      count: 10,
      url: "http://localhost:3000",
      timeoutS: 30,
      concurrency: 1,
      maxErrorRate: 0.01,
      sendServerTimeout: false,
    });
  });

  test("--rate implies rate mode and --concurrency implies concurrent mode", () => {
    expect(parse("--rate", "50")).toMatchObject({ mode: "rate", rate: 50 });
    expect(parse("--concurrency", "20")).toMatchObject({ mode: "concurrent", concurrency: 20 });
    expect(parse("--mode", "concurrent")).toMatchObject({ concurrency: 10 });
  });

  test("--duration alone bounds the run by time, not by the default count", () => {
    expect(parse("--duration", "5")).toMatchObject({ durationS: 5, count: undefined });
  });

  test("--processing-ms sets payload.simulate.ms and keeps the rest of the payload", () => {
    const options = parse("--payload", '{"a":1,"simulate":{"fail":false}}', "--processing-ms", "250");
    expect(options.payload).toEqual({ a: 1, simulate: { fail: false, ms: 250 } });
  });

  test("an explicit --timeout is also sent to the server as its deadline", () => {
    expect(parse("--timeout", "0.5")).toMatchObject({ timeoutS: 0.5, sendServerTimeout: true });
  });

  test("error budgets read as a percentage or a fraction", () => {
    expect(parseErrorRate("1%")).toBe(0.01);
    expect(parseErrorRate("0.05")).toBe(0.05);
    expect(() => parseErrorRate("150%")).toThrow();
  });

  test("contradictions and bad values are refused with a message", () => {
    expect(() => parse("--mode", "rate")).toThrow(/--rate/);
    expect(() => parse("--mode", "sequential", "--concurrency", "5")).toThrow(/sequential/);
    expect(() => parse("--count", "0")).toThrow(/--count/);
    expect(() => parse("--url", "ftp://x")).toThrow(/http/);
    expect(() => parse("--payload", "{nope")).toThrow(/JSON/);
    expect(() => parse("--mode", "bogus")).toThrow();
  });
});
