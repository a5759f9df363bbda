import { type Browser, chromium } from "playwright-core";

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
