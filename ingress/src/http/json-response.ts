/**
 * A JSON response from text that is already JSON (avoids a parse/serialise round trip on the hot
 * path). `headers` is taken over and completed with the content type: one object per response,
 * not a copy of it.
 */
export function jsonText(status: number, body: string, headers: Record<string, string> = {}): Response {
  headers["content-type"] = "application/json";
  return new Response(body, { status, headers });
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return jsonText(status, JSON.stringify(body), headers);
}
