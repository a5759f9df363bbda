import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { resolve } from "node:path";
import { allowOnly, launchChromium } from "../helpers/browser.ts";
import { Stack } from "../helpers/stack.ts";

// Real processes on a shared 2-core machine: a minute per test (each wait inside has its own deadline).
setDefaultTimeout(60_000);

describe("Swagger UI in a real browser", () => {
  let stack: Stack;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    stack = await Stack.start({ proxies: 1, processingMs: 20 });
    chromium = await launchChromium();
  }, 60_000);
  afterAll(async () => {
    await chromium?.close();
    await stack?.stop();
  }, 60_000);

  test("offline: expand POST /api/requests, Try it out, Execute, and see the 200 with the echo", async () => {
    const page = await chromium.browser.newPage({ viewport: { width: 1280, height: 1400 } });
    const origin = new URL(stack.ingress.url).origin;
    // Anything that is not the ingress itself is refused: the UI must work with no network.
    const { blocked, failed } = await allowOnly(page, origin);

    await page.goto(`${stack.ingress.url}/swagger`);
    const operation = page.locator(".opblock-post", { hasText: "/api/requests" }).first();
    await operation.locator(".opblock-summary").click();
    await operation.getByRole("button", { name: "Try it out" }).click();
    const editor = operation.locator("textarea.body-param__text");
    await editor.fill(JSON.stringify({ payload: { from: "swagger", n: 42 }, timeoutMs: 5000 }));
    await operation.getByRole("button", { name: "Execute" }).click();
    const response = operation.locator(".live-responses-table .response").first();
    await response.waitFor({ timeout: 15_000 });
    expect(await response.locator(".response-col_status").textContent()).toContain("200");
    const bodyText = await response.locator(".response-col_description").textContent();
    expect(bodyText ?? "").toContain('"echo"');
    expect(bodyText ?? "").toContain('"swagger"');

    await response.scrollIntoViewIfNeeded();
    await page.screenshot({
      path: resolve(import.meta.dir, "../../docs/images/swagger-try-it-out.png"),
      fullPage: false,
    });
    expect(blocked).toEqual([]);
    expect(failed).toEqual([]);
  });
});
