import { json, jsonText } from "../http/json-response.ts";
import type { RequestOutcome } from "./outcome.ts";

/** Maps an outcome to the HTTP contract. The handler's result is already JSON text: spliced in, not re-parsed. */
export function present(outcome: RequestOutcome, headers: Record<string, string> = {}): Response {
  switch (outcome.kind) {
    case "answered": {
      const { reply } = outcome;
      if (reply.status === "completed") {
        const body =
          `{"id":${JSON.stringify(reply.id)},"status":"completed","result":${reply.result ?? "null"},` +
          `"pod":${JSON.stringify(reply.pod)},"terminal":${reply.terminal},"queuedMs":${reply.queuedMs},` +
          `"processingMs":${reply.processingMs},"totalMs":${outcome.totalMs}}`;
        return jsonText(200, body, headers);
      }
      if (reply.status === "expired") return json(504, { id: reply.id, status: "timeout" }, headers);
      return json(
        502,
        { id: reply.id, status: "failed", error: reply.error ?? "processing failed" },
        headers,
      );
    }
    case "accepted":
    case "pending":
      return json(
        202,
        { id: outcome.id, status: "pending" },
        { location: `/api/requests/${outcome.id}`, ...headers },
      );
    case "timeout":
    // The ingress stopped waiting (SIGTERM, grace time over), but the request is on the stream and
    // will still run: a 503 "retry" would invite a client to run it twice. Like a deadline, a
    // 504 says the gateway gave up waiting, not that nothing happened.
    case "shutdown":
      return json(504, { id: outcome.id, status: "timeout" }, headers);
  }
}
