import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  CLUSTER_COMPONENT,
  KEDA_COMPONENT,
  KUSTOMIZE,
  kustomize,
  kustomizeCopy,
  OVERLAYS,
  REPO,
  render,
  SECRET_FILES,
  SECRET_OVERLAYS,
  VARIANTS,
} from "./kustomize.ts";

describe("kubectl kustomize renders", () => {
  for (const variant of VARIANTS) {
    test(`overlays/${variant} without errors or warnings`, () => {
      const result = kustomize(`overlays/${variant}`);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(render(variant).length).toBeGreaterThan(20);
    });
  }

  test("the optional KEDA component is a Component (applies on top of any overlay)", () => {
    const text = readFileSync(join(KUSTOMIZE, KEDA_COMPONENT, "kustomization.yaml"), "utf8");
    expect(text).toMatch(/^kind: Component$/m);
    expect(text).toMatch(/^apiVersion: kustomize\.config\.k8s\.io\/v1alpha1$/m);
  });

  test("the KEDA component renders on the local and staging overlays too", () => {
    for (const overlay of ["local", "staging"]) {
      const dir = join(kustomizeCopy(), "overlays", `${overlay}-keda`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        join(dir, "kustomization.yaml"),
        `resources: [../${overlay}]\ncomponents: [../../${KEDA_COMPONENT}]\n`,
      );
      const result = kustomize(dir);
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      expect(result.stdout).toContain("kind: ScaledObject");
    }
  });
});

describe("kustomization files follow the house style", () => {
  const kustomizations = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === "config" ? [] : kustomizations(path);
      return entry.name === "kustomization.yaml" ? [path] : [];
    });

  test("no deprecated commonLabels (it rewrites selectors); labels never include selectors", () => {
    const files = kustomizations(KUSTOMIZE);
    expect(files.length).toBeGreaterThan(8);
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      expect({ file, commonLabels: /^commonLabels:/m.test(text) }).toEqual({ file, commonLabels: false });
      expect({ file, bases: /^bases:/m.test(text) }).toEqual({ file, bases: false });
      expect({ file, includeSelectorsTrue: /includeSelectors:\s*true/.test(text) }).toEqual({
        file,
        includeSelectorsTrue: false,
      });
    }
  });

  test("every overlay and component manifest holds exactly one object", () => {
    const dirs = [
      ...OVERLAYS.map((o) => join(KUSTOMIZE, "overlays", o)),
      join(KUSTOMIZE, KEDA_COMPONENT),
      join(KUSTOMIZE, CLUSTER_COMPONENT),
    ];
    const base = join(KUSTOMIZE, "base");
    for (const sub of readdirSync(base, { withFileTypes: true })) {
      if (sub.isDirectory()) dirs.push(join(base, sub.name));
    }
    for (const dir of dirs) {
      for (const name of readdirSync(dir)) {
        if (!name.endsWith(".yaml") || name === "kustomization.yaml") continue;
        const text = readFileSync(join(dir, name), "utf8");
        expect({ file: join(dir, name), documents: text.split(/^---$/m).length }).toEqual({
          file: join(dir, name),
          documents: 1,
        });
      }
    }
  });
});

describe("secrets for staging and prod are never committed", () => {
  const git = (...args: string[]) =>
    Bun.spawnSync(["git", ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });

  for (const overlay of SECRET_OVERLAYS) {
    test(`${overlay}: the secret files are git-ignored and untracked, with committed examples`, () => {
      for (const file of SECRET_FILES) {
        const path = `kustomize/overlays/${overlay}/secrets/${file}`;
        expect({ path, ignored: git("check-ignore", "-q", "--no-index", path).exitCode }).toEqual({
          path,
          ignored: 0,
        });
        expect(git("ls-files", "--error-unmatch", path).exitCode).not.toBe(0);
        expect(existsSync(join(REPO, `${path}.example`))).toBe(true);
      }
    });

    test(`${overlay}: rendering without the secret files fails instead of deploying an empty password`, () => {
      const dir = join(kustomizeCopy(), "overlays", `${overlay}-without-secrets`);
      mkdirSync(join(dir, "secrets"), { recursive: true });
      for (const name of readdirSync(join(KUSTOMIZE, "overlays", overlay))) {
        if (name.endsWith(".yaml")) {
          writeFileSync(join(dir, name), readFileSync(join(KUSTOMIZE, "overlays", overlay, name)));
        }
      }
      const result = kustomize(dir);
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("secrets/redis.env");
    });
  }

  test("no overlay but local carries a password literal", () => {
    for (const overlay of SECRET_OVERLAYS) {
      const text = readFileSync(join(KUSTOMIZE, "overlays", overlay, "kustomization.yaml"), "utf8");
      expect(text).not.toMatch(/literals:/);
    }
  });
});
