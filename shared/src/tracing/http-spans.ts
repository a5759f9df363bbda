import { ATTR_HTTP_RESPONSE_STATUS_CODE } from "./attributes.ts";
import type { SpanHandle } from "./types.ts";

/**
 * Runs an HTTP exchange inside `span` and ends the span when it settles: the response's status
 * (`error.type` = the status from `failFrom` up: 500 for a server, 400 for a client, as the HTTP
 * conventions say), or what was thrown.
 */
export async function endOnResponse(
  span: SpanHandle,
  exchange: () => Response | Promise<Response>,
  failFrom: number,
): Promise<Response> {
  try {
    const response = await exchange();
    if (span.recording) {
      span.set(ATTR_HTTP_RESPONSE_STATUS_CODE, response.status);
      if (response.status >= failFrom) span.fail(String(response.status));
    }
    return response;
  } catch (error) {
    span.fail(error);
    throw error;
  } finally {
    span.end();
  }
}
