import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TRACING_VARIANTS } from "../../tools/bench/tracing.ts";

// A one-second smoke run of `bun run bench -- --only tracing`: it keeps working, replaces its own
// section and leaves the rest of the file alone. The numbers of such a run mean nothing.
test("bench --only tracing measures off, on 100%, on 1%, on 0% and an untraced twin (off again), at saturation, at a fixed rate and in the saturation scenario, into its own section", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rsd-bench-tracing-"));
  const output = join(dir, "benchmarks.md");
  // A section from an earlier run, between text that must stay: the run replaces it, once.
  writeFileSync(
    output,
    "# Benchmarks\n\nthe full run's text stays\n\n<!-- tracing:begin -->\nan earlier run\n<!-- tracing:end -->\n\nthe text after it stays\n",
  );
  try {
    const child = Bun.spawn(
      [
        "bun",
        "tools/bench/main.ts",
        "--only",
        "tracing",
        "--duration",
        "1",
        "--rounds",
        "1",
        "--output",
        output,
      ],
      { cwd: resolve(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe", stdin: "ignore" },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), 240_000);
    const [stderr, code] = await Promise.all([new Response(child.stderr).text(), child.exited]);
    clearTimeout(timer);
    expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
    const markdown = readFileSync(output, "utf8");
    expect(markdown).toStartWith("# Benchmarks\n\nthe full run's text stays\n");
    expect(markdown.match(/<!-- tracing:begin -->/g)).toHaveLength(1);
    expect(markdown).not.toContain("an earlier run");
    expect(markdown).toContain("<!-- tracing:end -->\n\nthe text after it stays\n");
    for (const variant of TRACING_VARIANTS) {
      const line = markdown.split("\n").find((l) => l.startsWith(`| ${variant} |`));
      expect(Number(line?.split("|")[2]?.trim().replace(/,/g, ""))).toBeGreaterThan(0);
    }
    // The saturation rounds' CPU per request, as ratios to off that were measured (not 0%).
    expect(markdown).toMatch(/What saturation costs in CPU\.[^\n]*for on 1% [1-9]\d*\.\d%/);
    // The untraced twin's ratio to off: the run's noise, measured.
    expect(markdown).toMatch(/, and for off again [1-9]\d*\.\d%/);
    // The fixed-rate table: the same load on each, charged in gateway CPU per answered request.
    const fixedRate = markdown.slice(markdown.indexOf("| tracing | gateway CPU µs/req |"));
    for (const variant of TRACING_VARIANTS) {
      const line = fixedRate.split("\n").find((l) => l.startsWith(`| ${variant} |`));
      expect(Number(line?.split("|")[2]?.trim())).toBeGreaterThan(0);
    }
    // The saturation scenario (3 proxies × 50 terminals at 150 ms) on each: answered, with CPU.
    const nominal = markdown.slice(markdown.indexOf("| tracing | req/s | of 1,000 |"));
    for (const variant of TRACING_VARIANTS) {
      const cells = nominal
        .split("\n")
        .find((l) => l.startsWith(`| ${variant} |`))
        ?.split("|");
      expect(Number(cells?.[2]?.trim().replace(/,/g, ""))).toBeGreaterThan(0);
      expect(Number(cells?.[7]?.trim())).toBeGreaterThan(0);
    }
    // The traced stacks exported to the sink.
    expect(markdown).toMatch(/The sink received [1-9][\d,]* exports/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 300_000);
