/**
 * The shipped ACL template (kustomize/base/redis/users.acl.template), rendered by the shipped
 * render-acl.sh with throwaway passwords: hashes only, and a missed render cannot start Redis.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../helpers/ports.ts";
import { passwordEnv, passwords, render, TEMPLATE, USERS } from "./acl.ts";

describe("the shipped ACL template and its renderer", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "rsd-acl-render-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("renders hashes only: no clear password, no comment, no placeholder left", () => {
    const output = join(dir, "users.acl");
    const { exitCode, stderr } = render(output, passwordEnv);
    expect({ exitCode, stderr }).toEqual({ exitCode: 0, stderr: "" });
    const text = readFileSync(output, "utf8");
    const lines = text.trim().split("\n");
    expect(lines.map((line) => line.split(" ")[1])).toEqual(["default", ...USERS]);
    expect(lines.every((line) => line.startsWith("user "))).toBe(true);
    expect(text).not.toContain("{{");
    for (const user of USERS) {
      expect(text).not.toContain(passwords[user]);
      const hash = new Bun.CryptoHasher("sha256").update(passwords[user]).digest("hex");
      expect(lines.find((line) => line.startsWith(`user ${user} `))).toContain(` #${hash} `);
    }
    expect(lines[0]).toMatch(/^user default off /);
  });

  test("refuses to render when a password is missing or empty, naming it", () => {
    const output = join(dir, "incomplete.acl");
    const { exitCode, stderr } = render(output, { ...passwordEnv, REDIS_PROXY_PASSWORD: "" });
    expect(exitCode).not.toBe(0);
    expect(stderr).toContain("REDIS_PROXY_PASSWORD");
    expect(existsSync(output)).toBe(false);
  });

  test("the template itself is not a loadable ACL file (a missed render cannot start Redis)", async () => {
    const port = String(await freePort());
    const result = Bun.spawnSync(["redis-server", "--port", port, "--save", "", "--aclfile", TEMPLATE], {
      stdout: "pipe",
      stderr: "pipe",
      timeout: 10_000,
    });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout.toString() + result.stderr.toString()).toMatch(/ACL/);
  });
});
