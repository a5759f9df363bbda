import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { validate } from "dockerfile-utils";
import { parse } from "yaml";
import { SERVICE_PORT, type Service } from "./contract.ts";
import { REPO } from "./kustomize.ts";

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions of a Dockerfile, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [keyword = "", ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(" ") };
    });
}

const packageJson = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const SERVICES: Service[] = ["ingress", "proxy"];

for (const service of SERVICES) {
  describe(`${service}/Dockerfile`, () => {
    const text = readFileSync(join(REPO, service, "Dockerfile"), "utf8");
    const all = instructions(text);
    const stages = all.filter((i) => i.keyword === "FROM");
    // The instructions of the final stage: what the image is.
    const final = all.slice(all.lastIndexOf(stages.at(-1)!));

    test("passes dockerfile-utils lint without any diagnostic", () => {
      expect(validate(text)).toEqual([]);
      // The command line too, as a developer runs it.
      const cli = Bun.spawnSync(
        [join(REPO, "node_modules/.bin/dockerfile-utils"), "lint", `${service}/Dockerfile`],
        {
          cwd: REPO,
          stdout: "pipe",
          stderr: "pipe",
        },
      );
      expect(cli.stdout.toString() + cli.stderr.toString()).toBe("");
      expect(cli.exitCode).toBe(0);
    });

    test("is multi-stage on the official Bun image of the project's Bun version", () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      const bunVersion = packageJson.devDependencies["@types/bun"];
      for (const stage of stages)
        expect(stage.args).toMatch(new RegExp(`^oven/bun:${bunVersion.replace(/\./g, "\\.")}`));
    });

    test("installs production dependencies only, exactly as locked", () => {
      const installs = all.filter((i) => i.keyword === "RUN" && i.args.includes("bun install"));
      expect(installs.map((i) => i.args)).toEqual(["bun install --frozen-lockfile --production"]);
      // The final image gets node_modules from the install stage, never from the build context.
      const copies = final.filter((i) => i.keyword === "COPY" && i.args.includes("node_modules"));
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect(copy.args).toStartWith("--from=");
    });

    test("runs as a non-root numeric user", () => {
      const users = final.filter((i) => i.keyword === "USER");
      expect(users.length).toBe(1);
      const [uid] = users[0]!.args.split(":");
      expect(Number(uid)).toBeGreaterThan(0);
    });

    test("has a health check on /healthz at the service's port", () => {
      const healthcheck = final.find((i) => i.keyword === "HEALTHCHECK");
      expect(healthcheck?.args).toContain("/healthz");
      const port = String(SERVICE_PORT[service].port);
      expect(final.find((i) => i.keyword === "EXPOSE")?.args).toBe(port);
      expect(final.find((i) => i.keyword === "ENV" && /\bPORT=/.test(i.args))?.args).toContain(
        `PORT=${port}`,
      );
    });

    test("runs the runtime as the benchmark measured it: one GC marking thread", () => {
      // Pods get a CPU limit of one core or less (kustomize/base); tools/bench/launcher.ts sets the same.
      const env = final.filter((i) => i.keyword === "ENV").map((i) => i.args);
      expect(env).toContain("BUN_JSC_numberOfGCMarkers=1");
    });

    test(`starts with the start:${service} package script, with no shell in between`, () => {
      const cmd = final.filter((i) => i.keyword === "CMD");
      expect(cmd.length).toBe(1);
      const argv: string[] = JSON.parse(cmd[0]!.args);
      expect(argv.join(" ")).toBe(packageJson.scripts[`start:${service}`]);
      expect(final.some((i) => i.keyword === "ENTRYPOINT")).toBe(false);
    });

    test("copies the sources the service imports: its own workspace and shared", () => {
      const copied = final
        .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
        .map((i) => i.args);
      expect(copied).toEqual(
        expect.arrayContaining([`${service}/src ${service}/src`, "shared/src shared/src"]),
      );
      const other = service === "ingress" ? "proxy" : "ingress";
      expect(copied.some((c) => c.startsWith(`${other}/src`))).toBe(false);
    });
  });
}

describe("the Dockerfile checks catch mistakes", () => {
  test("dockerfile-utils reports a misspelt instruction and a bad health check", () => {
    const diagnostics = validate(
      "FROM oven/bun:1.4.4-slim\nCOPPY . .\nHEALTHCHECK --interval=abc CMD true\n",
    );
    expect(diagnostics.length).toBeGreaterThanOrEqual(2);
  });
});

describe(".dockerignore", () => {
  const ignored = readFileSync(join(REPO, ".dockerignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"));

  test("keeps host node_modules, git history and secrets out of the build context", () => {
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", ".git", "**/.env", "**/secrets"]));
  });

  test("does not exclude anything the Dockerfiles copy", () => {
    for (const service of SERVICES) {
      const sources = instructions(readFileSync(join(REPO, service, "Dockerfile"), "utf8"))
        .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
        .flatMap((i) => i.args.split(" ").slice(0, -1));
      for (const source of sources) {
        const top = source.split("/")[0]!;
        expect({ source, ignored: ignored.includes(source) || ignored.includes(top) }).toEqual({
          source,
          ignored: false,
        });
      }
    }
  });
});

describe("compose builds the images the Kubernetes local overlay runs", () => {
  test("image names match redis-stream-demo/<service>:dev", () => {
    const compose = parse(readFileSync(join(REPO, "compose.yaml"), "utf8"));
    for (const service of SERVICES)
      expect(compose.services[service].image).toBe(`redis-stream-demo/${service}:dev`);
  });
});
