import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { allowOnly, launchChromium } from "../helpers/browser.ts";
import { waitFor } from "../helpers/wait.ts";
import { adminKey, call, clientKey, DeadLetterStack, keyedEnv } from "./support.ts";

const loadTester = resolve(import.meta.dir, "../../tools/load-test/main.ts");

describe("the console in a real browser", () => {
  let dl: DeadLetterStack;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let failedId: string;
  beforeAll(async () => {
    // A named key: its requests belong to tenant "browser", which the dead letter's lane shows.
    dl = await DeadLetterStack.start({ ...keyedEnv, API_KEYS: `browser:${clientKey}` }, 2);
    failedId = await dl.failedRequest("browser", clientKey);
    dl.backendUp();
    chromium = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await dl?.stop();
  }, 60_000);

  test("offline: log in, the fleet's terminals, throughput rising under load, replay a dead letter", async () => {
    const page = await chromium.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const origin = new URL(dl.url).origin;
    const { blocked, failed } = await allowOnly(page, origin);

    // Without a key a browser gets the login form; the admin key sets the session cookie.
    const login = await page.goto(`${dl.url}/console`);
    expect(login?.status()).toBe(401);
    await page.fill('input[name="key"]', adminKey);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${dl.url}/console`);
    const cookie = (await page.context().cookies()).find((entry) => entry.name === "rsd_admin");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(cookie?.value).not.toContain(adminKey);

    await page.locator("#redis-state.state-ok").waitFor({ timeout: 15_000 });
    // A proxy's first heartbeat may come up to 2 s after it is ready: wait for both in the fleet.
    await waitFor("both proxies' terminals in /api/fleet", async () => {
      return (await call(dl.url, "/api/fleet", { key: clientKey })).body.terminals === 10;
    });
    await waitFor("the page to show the fleet's terminals", async () => {
      return (await page.textContent("#terminals")) === "10";
    });

    const throughput = async () => Number((await page.textContent("#throughput")) ?? "0") || 0;
    const before = await throughput();
    const load = Bun.spawn(
      [
        "bun",
        loadTester,
        "--url",
        dl.url,
        "--api-key",
        clientKey,
        "--duration",
        "15",
        "--concurrency",
        "4",
        "--no-progress",
      ],
      { stdout: "ignore", stderr: "ignore", stdin: "ignore" },
    );
    try {
      await waitFor(
        "the throughput figure to rise under load",
        async () => (await throughput()) > before + 5,
        {
          timeoutMs: 15_000,
          intervalMs: 200,
        },
      );
      // A few seconds of chart under load, then the picture for the README.
      const points = () =>
        page.evaluate(() => {
          const chart = (globalThis as { Chart?: { getChart(id: string): { data: { labels: unknown[] } } } })
            .Chart;
          return chart?.getChart("throughput-chart")?.data.labels.length ?? 0;
        });
      await waitFor("eight points of load on the chart", async () => (await points()) >= 8, {
        timeoutMs: 15_000,
        intervalMs: 250,
      });
      await page.locator(`#dead-letters tr`, { hasText: failedId }).waitFor({ timeout: 15_000 });
      await page.screenshot({ path: resolve(import.meta.dir, "../../docs/images/console.png") });
    } finally {
      load.kill();
      await load.exited;
    }

    expect((await call(dl.url, `/api/requests/${failedId}`, { key: clientKey })).status).toBe(502);
    const row = page.locator("#dead-letters tr", { hasText: failedId });
    // The lane a replay goes back onto, as the admin API describes the letter.
    const letters = (await call(dl.url, "/api/admin/dead-letters?count=20", { key: adminKey })).body
      .entries as { requestId: string; tenant: string | null; urgency: number }[];
    const letter = letters.find((entry) => entry.requestId === failedId);
    expect({ tenant: letter?.tenant, urgency: letter?.urgency }).toEqual({ tenant: "browser", urgency: 3 });
    expect(await row.locator("td.lane").textContent()).toBe("browser · u=3");
    await row.getByRole("button", { name: "Replay" }).click();
    await page.locator("#dead-status", { hasText: "replayed" }).waitFor({ timeout: 15_000 });
    expect((await dl.outcome(failedId, 200, clientKey)).status).toBe("completed");
    await row.waitFor({ state: "detached", timeout: 15_000 });

    expect(blocked).toEqual([]);
    expect(failed).toEqual([]);
    await page.close();
  }, 120_000);
});
