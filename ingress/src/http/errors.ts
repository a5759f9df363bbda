/**
 * Typed HTTP failures (BullMQ's typed-errors idea): code that catches them decides by type, and
 * the error plugin turns each into the contract's JSON body. Messages are written for clients:
 * they say what is wrong and never carry internals.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(limit: number) {
    super(413, `request body is larger than MAX_BODY_BYTES (${limit} bytes)`);
  }
}

export class BadRequestError extends HttpError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 503: the gateway cannot take the request now; the client should come back after `Retry-After`. */
export class UnavailableError extends HttpError {
  constructor(message: string, retryAfterS: number) {
    super(503, message, { "retry-after": String(retryAfterS) });
  }
}
