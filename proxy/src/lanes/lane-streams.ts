import type { LaneQueue, Logger } from "@rsd/shared";

/**
 * Every stream that may hold requests when TENANT_LANES is on: the shard streams plus each
 * shard's active lanes. Reclaim, trimming and consumer forgetting run per stream, so they run per
 * lane by iterating this (a lane deleted meanwhile only makes its round a no-op).
 */
export function laneStreams(lanes: LaneQueue, logger: Logger): () => Promise<string[]> {
  return async () => {
    const streams = [...lanes.keys.requestStreams];
    for (let shard = 0; shard < lanes.keys.shards; shard++) {
      try {
        streams.push(...(await lanes.activeStreams(shard)));
      } catch (error) {
        // One unreachable shard must not stop the others' recovery.
        logger.warn("listing the active lanes failed", { shard, error });
      }
    }
    return streams;
  };
}
