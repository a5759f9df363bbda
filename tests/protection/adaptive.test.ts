import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { metricValue } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { countOf, drive, fragileStack, stopAfterAll } from "./support.ts";

setDefaultTimeout(120_000);

type Fleet = { concurrencyLimit: number; proxies: { pod: string; terminals: number; limit: number }[] };

describe("adaptive terminals against a real fragile backend", () => {
  const stops = stopAfterAll();

  test("the limit stays near the knee instead of TERMINALS, and the fleet reports it", async () => {
    // Knee 3, no errors: with fixed terminals 24 clients would put 24 calls on the backend at once.
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "3", "--base-ms", "30", "--noise", "0", "--error-at", "10000"],
      { proxies: 1, terminals: 24, proxyEnv: { CONCURRENCY_LIMIT: "adaptive", MIN_TERMINALS: "2" } },
    );
    stops.push(stop);
    const statuses = await drive(stack, { count: 400, connections: 24, timeoutMs: 60_000 });
    expect(countOf(statuses, 200)).toBe(400);
    const proxy = stack.proxies[0]?.url as string;
    const limit = await metricValue(proxy, "rsd_proxy_concurrency_limit");
    expect(limit).toBeGreaterThanOrEqual(2);
    expect(limit).toBeLessThanOrEqual(12);
    // Far fewer calls at once than the 24 terminals (the limit starts at 4 and only follows latency).
    expect((await backend.stats()).maxConcurrent).toBeLessThan(24);
    const fleet = await waitFor("a heartbeat with the adaptive limit", async () => {
      const body = (await (await fetch(`${stack.ingress.url}/api/fleet`)).json()) as Fleet;
      return body.proxies[0] && body.proxies[0].limit < 24 ? body : undefined;
    });
    expect(fleet.proxies[0]).toMatchObject({ pod: "proxy-1", terminals: 24 });
    expect(fleet.concurrencyLimit).toBe(fleet.proxies[0]?.limit as number);
  });

  test("fixed (the default) exports the limit as TERMINALS and uses every terminal", async () => {
    const { stack, backend, stop } = await fragileStack(
      ["--knee", "3", "--base-ms", "30", "--error-at", "10000"],
      {
        proxies: 1,
        terminals: 6,
      },
    );
    stops.push(stop);
    expect(await metricValue(stack.proxies[0]?.url as string, "rsd_proxy_concurrency_limit")).toBe(6);
    await drive(stack, { count: 60, connections: 12, timeoutMs: 60_000 });
    expect((await backend.stats()).maxConcurrent).toBe(6);
    const fleet = await waitFor("a heartbeat", async () => {
      const body = (await (await fetch(`${stack.ingress.url}/api/fleet`)).json()) as Fleet;
      return body.proxies.length === 1 ? body : undefined;
    });
    expect(fleet.concurrencyLimit).toBe(6);
  });
});
