import type { RedisClient } from "./client/redis-client.ts";
import type { StreamKeys } from "./keys.ts";

/** What every protocol operation is built from: the typed client and the deployment's key names. */
export interface ProtocolDeps {
  client: RedisClient;
  keys: StreamKeys;
}

/**
 * The base of the operations that need nothing but the client and the keys (stores, registries,
 * dead letters): one place that holds the two, instead of the same constructor in every class.
 */
export abstract class ProtocolOperations {
  protected readonly client: RedisClient;
  protected readonly keys: StreamKeys;

  constructor(deps: ProtocolDeps) {
    this.client = deps.client;
    this.keys = deps.keys;
  }
}
