import { expect, spyOn, test } from "bun:test";
import { Logger } from "@rsd/shared";
import { errorResponse } from "../../ingress/src/http/error-plugin.ts";

/** The lines a logger writes while `run` runs (the logger buffers them to the end of the turn). */
function captureLog(run: () => void): Record<string, unknown>[] {
  const writes: string[] = [];
  const spy = spyOn(process.stdout, "write").mockImplementation(((chunk: string) => {
    writes.push(String(chunk));
    return true;
  }) as never);
  try {
    run();
    Logger.flush();
  } finally {
    spy.mockRestore();
  }
  return writes
    .join("")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test("an unhandled error is answered 500 without internals, and its stack is logged", async () => {
  const logger = new Logger("info", { service: "test" });
  const error = new Error("database password is hunter2");
  let response: Response | undefined;
  const lines = captureLog(() => {
    response = errorResponse("UNKNOWN", error, logger);
  });
  expect(response?.status).toBe(500);
  expect(await response?.text()).toBe(JSON.stringify({ error: "internal error" }));
  const line = lines.find((entry) => entry.msg === "unhandled error");
  expect(String(line?.stack)).toContain("error-response.test.ts");
  expect(line?.error).toEqual({ name: "Error", message: "database password is hunter2" });
});
