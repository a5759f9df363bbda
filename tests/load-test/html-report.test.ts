import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type BrowserContext, chromium } from "playwright-core";
import { Stack } from "../helpers/stack.ts";
import { runCli } from "./run-cli.ts";

// Debian's chromium, never a downloaded browser build; no profile, no background traffic.
const CHROMIUM = "/usr/bin/chromium";
const screenshotPath = resolve(import.meta.dir, "../../docs/images/load-test-report.png");
const dir = mkdtempSync(join(tmpdir(), "rsd-report-"));
const htmlPath = join(dir, "report.html");
let stack: Stack;

/** Runs in the page (plain JS, not type-checked against a DOM here): how many pixels each canvas painted. */
const canvasProbe = `Array.from(document.querySelectorAll("canvas"), (canvas) => {
  const context = canvas.getContext("2d");
  if (!context || canvas.width === 0 || canvas.height === 0) return { id: canvas.id, painted: 0 };
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted += 1;
  return { id: canvas.id, painted };
})`;
let browser: BrowserContext;

// Starting (and stopping) processes takes longer than Bun's 5 s default for hooks.
const HOOK_TIMEOUT_MS = 60_000;

beforeAll(async () => {
  // A small fleet pushed a little past its capacity (10 terminals × 25 ms = 400 req/s, asked 500):
  // latency climbs as the queue grows, then the ingress sheds, so every chart has something to draw.
  stack = await Stack.start({
    proxies: 2,
    terminals: 5,
    processingMs: 25,
    env: { LOG_LEVEL: "warn" },
    ingressEnv: { MAX_QUEUE_DEPTH: "40" },
  });
  const run = await runCli([
    "--url",
    stack.ingress.url,
    "--rate",
    "500",
    "--duration",
    "3",
    "--max-error-rate",
    "100%",
    "--html",
    htmlPath,
  ]);
  expect(run.code).toBe(0);
  // A persistent context on an empty temp profile directory (Playwright's way to pass --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}, HOOK_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
}, HOOK_TIMEOUT_MS);

describe("HTML report", () => {
  test("is one self-contained file: no reference to any other host", () => {
    const html = readFileSync(htmlPath, "utf8");
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain("Content-Security-Policy");
  });

  test("opens in headless Chromium with no network request and every chart drawn", async () => {
    const page = await browser.newPage();
    const offending: string[] = [];
    const failed: string[] = [];
    const errors: string[] = [];
    page.on("request", (request) => {
      const url = request.url();
      if (!url.startsWith("file:") && !url.startsWith("data:") && !url.startsWith("about:"))
        offending.push(url);
    });
    page.on("requestfailed", (request) => failed.push(`${request.url()} ${request.failure()?.errorText}`));
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    // Anything that is not the file itself is refused, so a stray CDN link would fail loudly here.
    await page.route(/^(?!file:|data:|about:)/, (route) => route.abort());

    await page.goto(pathToFileURL(htmlPath).toString(), { waitUntil: "load", timeout: 15_000 });
    await page.waitForFunction('document.body.dataset.chartsReady === "true"', undefined, {
      timeout: 15_000,
    });

    const canvases = await page.evaluate<{ id: string; painted: number }[]>(canvasProbe);
    expect(canvases.map((c) => c.id).sort()).toEqual(
      [
        "errors-over-time",
        "latency-histogram",
        "latency-over-time",
        "latency-percentiles",
        "throughput-over-time",
      ].sort(),
    );
    for (const canvas of canvases)
      expect({ id: canvas.id, drawn: canvas.painted > 1000 }).toEqual({ id: canvas.id, drawn: true });
    expect(offending).toEqual([]);
    expect(failed).toEqual([]);
    expect(errors).toEqual([]);

    mkdirSync(resolve(screenshotPath, ".."), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    expect(statSync(screenshotPath).size).toBeGreaterThan(10_000);
    await page.close();
  });
});
