import type { Answer, RequestRecord } from "./records.ts";
import { markerHeader, upstreamHeader } from "./upstream.ts";

export interface ClientOptions {
  /** The requests' deadline, sent as timeoutMs / X-Timeout-Ms. */
  timeoutMs: number;
  /** Run start (epoch ms): record times are relative to it. */
  t0: number;
  /** The ingresses a poll may go to now (a stopped one is skipped). */
  pollTargets: () => string[];
}

/** The client's own bound on one HTTP exchange: the deadline plus the shutdown grace and a margin. */
const clientSlackMs = 15_000;

/**
 * Sends one request as the record describes and fills in what came back: the one HTTP answer, or
 * the transport error; for async requests, the polls of GET /api/requests/:id until a final
 * outcome or the poll deadline. Never throws.
 */
export async function runRequest(
  record: RequestRecord,
  baseUrl: string,
  options: ClientOptions,
): Promise<void> {
  const { method, path, headers, body } = describe(record, options.timeoutMs);
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(options.timeoutMs + clientSlackMs),
    });
    record.answer = await readAnswer(response, options.t0);
  } catch (error) {
    record.transportError = errorText(error);
    record.transportErrorAtMs = Date.now() - options.t0;
    return;
  }
  if (record.route === "async" && record.answer.status === 202 && record.answer.id)
    await poll(record, record.answer.id, options);
  else if (record.route === "async" && record.answer.status === 200 && record.idempotencyKey)
    record.final = record.answer; // an idempotent duplicate of a finished request answers at once
}

function describe(record: RequestRecord, timeoutMs: number) {
  const headers: Record<string, string> = {};
  if (record.idempotencyKey) headers["idempotency-key"] = record.idempotencyKey;
  if (record.route === "proxy-get" || record.route === "proxy-post") {
    headers["x-timeout-ms"] = String(timeoutMs);
    const post = record.route === "proxy-post";
    if (post) headers["content-type"] = "application/json";
    return {
      method: post ? "POST" : "GET",
      path: `/proxy/m/${record.marker}`,
      headers,
      body: post ? JSON.stringify({ marker: record.marker }) : undefined,
    };
  }
  headers["content-type"] = "application/json";
  if (record.route === "async") headers.prefer = "respond-async";
  return {
    method: "POST",
    path: "/api/requests",
    headers,
    body: JSON.stringify({ payload: { marker: record.marker }, timeoutMs }),
  };
}

async function readAnswer(response: Response, t0: number): Promise<Answer> {
  const text = await response.text();
  const answer: Answer = { status: response.status, atMs: Date.now() - t0 };
  if (response.headers.get(upstreamHeader) === "1") {
    answer.fromBackend = true;
    answer.marker = response.headers.get(markerHeader) ?? undefined;
    return answer;
  }
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return answer;
  }
  if (typeof body?.id === "string") answer.id = body.id;
  if (typeof body?.status === "string") answer.word = body.status;
  const result = body?.result as Record<string, unknown> | undefined;
  if (typeof result?.marker === "string") answer.marker = result.marker;
  return answer;
}

const pollIntervalMs = 250;

async function poll(record: RequestRecord, id: string, options: ClientOptions): Promise<void> {
  record.polls = {};
  const giveUpAt = Date.now() + options.timeoutMs + clientSlackMs;
  for (let turn = 0; Date.now() < giveUpAt; turn++) {
    await Bun.sleep(pollIntervalMs);
    const targets = options.pollTargets();
    const target = targets[turn % Math.max(1, targets.length)];
    if (!target) continue;
    let answer: Answer;
    try {
      const response = await fetch(`${target}/api/requests/${id}`, { signal: AbortSignal.timeout(5_000) });
      answer = await readAnswer(response, options.t0);
    } catch {
      record.polls["0"] = (record.polls["0"] ?? 0) + 1;
      continue;
    }
    record.polls[String(answer.status)] = (record.polls[String(answer.status)] ?? 0) + 1;
    if (answer.status === 200 || answer.status === 502 || answer.status === 504) {
      record.final = answer;
      return;
    }
  }
}

function errorText(error: unknown): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return "client gave up";
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : String(error);
}
