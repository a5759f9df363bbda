import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { freePort } from "../helpers/ports.ts";
import { Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait has its own deadline).
setDefaultTimeout(60_000);

let stack: Stack | undefined;

afterAll(async () => {
  await stack?.stop();
});

test("a collector that is not there costs no request: every one answered, the failure logged (not per span)", async () => {
  // Nothing listens on this port: every export is refused.
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  stack = await Stack.start({
    proxies: 1,
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: "200" },
  });
  const running = stack;
  const answers = await Promise.all(
    Array.from({ length: 50 }, (_, index) => running.request({ payload: index })),
  );
  expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));

  const warned = (service: typeof running.ingress) =>
    service.logs().filter((line) => line.msg === "tracing: spans not exported");
  await waitFor(
    "both services to report the failed export",
    () => [running.ingress, ...running.proxies].every((service) => warned(service).length > 0),
    { timeoutMs: 40_000 },
  );
  // Rate-limited: one line per 30 s at most, not one per span or per batch.
  for (const service of [running.ingress, ...running.proxies]) expect(warned(service).length).toBe(1);
  // And the services stop promptly: the flush gives up at its deadline.
  const exits = await Promise.all(
    [running.ingress, ...running.proxies].map((service) => service.stop("SIGTERM")),
  );
  expect(exits).toEqual([0, 0]);
}, 90_000);
