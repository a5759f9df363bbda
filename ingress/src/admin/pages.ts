import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

const pageDir = join(import.meta.dir, "page");
const chartDir = dirname(Bun.resolveSync("chart.js", import.meta.dir));

/** The console's files, served by the ingress itself (no CDN: clusters are often offline). A Map: no name reaches an Object.prototype property. */
export const consoleAssets = new Map<string, { path: string; type: string }>([
  ["console.js", { path: join(pageDir, "console.js"), type: "application/javascript; charset=utf-8" }],
  ["console.css", { path: join(pageDir, "console.css"), type: "text/css; charset=utf-8" }],
  [
    "chart.umd.min.js",
    { path: join(chartDir, "chart.umd.min.js"), type: "application/javascript; charset=utf-8" },
  ],
]);

/** The console page (read once at start). */
export const consolePage = readFileSync(join(pageDir, "console.html"), "utf8");

/** The login form, shown instead of the console to a browser without an admin key. */
export function loginPage(failed = false): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>redis-stream-demo console: log in</title></head>
<body>
<h1>redis-stream-demo console</h1>
${failed ? "<p><strong>That is not an admin key.</strong></p>" : ""}
<form method="post" action="/console/login">
<label>Admin key <input type="password" name="key" autocomplete="current-password" required></label>
<button type="submit">Log in</button>
</form>
<p>Scripts send <code>Authorization: Bearer &lt;admin key&gt;</code> instead.</p>
</body></html>`;
}
