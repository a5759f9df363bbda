import { type Browser, chromium, type Page } from "playwright-core";

/**
 * Debian's Chromium (never a downloaded browser), headless, with the flags that keep it off the
 * network on its own: this machine is offline and a page must not need anything from outside.
 */
export async function launchChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    // Playwright gives every launch a fresh, temporary profile and removes it on close.
    close: () => browser.close(),
  };
}

/**
 * Refuses every request of `page` that does not go to `origin` (or a data: URL), and records what
 * was refused and what failed: a page that works offline leaves both lists empty.
 */
export async function allowOnly(
  page: Page,
  origin: string,
): Promise<{ blocked: string[]; failed: string[] }> {
  const blocked: string[] = [];
  const failed: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:")) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on("requestfailed", (request) => failed.push(request.url()));
  return { blocked, failed };
}
