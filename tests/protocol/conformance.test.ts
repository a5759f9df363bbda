import { describeEachAdapter } from "./adapters.ts";
import { claimsSuite, trimSuite } from "./claims.suite.ts";
import { deliverySuite } from "./delivery.suite.ts";
import { lanesSuite } from "./lanes.suite.ts";
import { recordsSuite, recordVersionsSuite } from "./records.suite.ts";
import { recoverySuite } from "./recovery.suite.ts";
import { storesSuite } from "./stores.suite.ts";

// The protocol conformance suite (docs/architecture.md): the same tests, through the protocol's
// public operations, against each adapter on its own real Redis (adapters.ts).
describeEachAdapter([
  recordsSuite,
  recordVersionsSuite,
  deliverySuite,
  claimsSuite,
  trimSuite,
  recoverySuite,
  storesSuite,
  lanesSuite,
]);
