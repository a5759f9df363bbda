/** Tracing over the OpenTelemetry SDK, imported only once tracing is on (see start.ts). */
export * from "./attributes.ts";
export * from "./http-spans.ts";
export * from "./ids.ts";
export * from "./start.ts";
export type * from "./types.ts";
