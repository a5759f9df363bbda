export * from "./admin-keys.ts";
export * from "./api-keys.ts";
export * from "./breaker-gauge.ts";
export * from "./config.ts";
export * from "./config-parse.ts";
export * from "./config-protection.ts";
export * from "./forwarded.ts";
export * from "./health.ts";
export * from "./hot-metrics.ts";
export * from "./logger.ts";
export * from "./metrics.ts";
export * from "./periodic.ts";
export * from "./protocol/index.ts";
export * from "./stream-stats.ts";
export * from "./tenant-config.ts";
export * from "./trace-context.ts";
// Configuration only: the SDK itself is in "@rsd/shared/tracing", imported when tracing is on.
export * from "./tracing/config.ts";
