/** How a request was sent. */
export type Route = "sync" | "async" | "proxy-post" | "proxy-get";

/** One HTTP answer as the client saw it (the first one for a request, or an async request's final poll). */
export interface Answer {
  status: number;
  atMs: number;
  /** The body's `id`, when it has one. */
  id?: string | undefined;
  /** The body's `status` word (completed, pending, failed, timeout), when it has one. */
  word?: string | undefined;
  /** The marker the answer carries (a 200's result, or the backend's own answer on /proxy/*). */
  marker?: string | undefined;
  /** A /proxy/* answer that came from the backend itself (its header), not from the gateway. */
  fromBackend?: boolean;
}

/** Everything the driver knows about one request; the checker judges these and nothing else from the client side. */
export interface RequestRecord {
  seq: number;
  marker: string;
  route: Route;
  /** Index of the ingress it was sent to. */
  ingress: number;
  idempotencyKey?: string | undefined;
  /** A second send of an earlier request (same key, same body, same marker): that request's seq. */
  duplicateOf?: number | undefined;
  /** Part of the burst fault. */
  burst?: boolean;
  /** Milliseconds after the load started. */
  sentAtMs: number;
  /** The one HTTP answer; absent when the connection failed (transportError) or never answered. */
  answer?: Answer | undefined;
  /** Why no HTTP answer came: the connection failed, or the client's own bound passed (`client gave up`). */
  transportError?: string | undefined;
  transportErrorAtMs?: number | undefined;
  /** Async requests: the stored outcome the polls ended with (absent: none before the poll deadline). */
  final?: Answer | undefined;
  /** Async requests: poll answers by status, including 202s, 503s and failed connections (status 0). */
  polls?: Record<string, number>;
}

/** The statuses the contract allows per route (docs/contract.md, "Routes"). */
export const contractStatuses: Record<"api" | "poll" | "proxy", ReadonlySet<number>> = {
  api: new Set([200, 202, 400, 401, 413, 422, 502, 503, 504]),
  poll: new Set([200, 202, 400, 401, 404, 502, 503, 504]),
  // The gateway's own: a backend's status passes through as it is (fromBackend).
  proxy: new Set([400, 401, 413, 502, 503, 504]),
};
