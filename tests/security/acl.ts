/**
 * What the ACL test files share: the shipped template (kustomize/base/redis/users.acl.template),
 * its renderer (render-acl.sh), throwaway passwords for every user, and a way to try a command.
 */
import { join, resolve } from "node:path";
import type Redis from "ioredis";

export const REDIS_DIR = resolve(import.meta.dir, "../../kustomize/base/redis");
export const TEMPLATE = join(REDIS_DIR, "users.acl.template");
export const RENDER = join(REDIS_DIR, "render-acl.sh");
export const USERS = ["admin", "ingress", "proxy", "exporter", "keda"] as const;
export type User = (typeof USERS)[number];

/** Fresh random passwords per run, in the variables the template names. */
export const passwords = Object.fromEntries(
  USERS.map((user) => [user, Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("hex")]),
) as Record<User, string>;
export const passwordEnv = Object.fromEntries(
  USERS.map((user) => [`REDIS_${user.toUpperCase()}_PASSWORD`, passwords[user]]),
);

/** Runs the shipped render-acl.sh into `output` with `env` as its only environment (besides PATH). */
export function render(output: string, env: Record<string, string>) {
  const result = Bun.spawnSync(["sh", RENDER, TEMPLATE, output], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { exitCode: result.exitCode, stderr: result.stderr.toString() };
}

export const isNoPerm = (line: unknown) => JSON.stringify(line).includes("NOPERM");

/** Runs a command as `user`; resolves to its reply or to the error message. */
export async function attempt(
  client: Redis,
  command: string,
  ...args: (string | number)[]
): Promise<unknown> {
  try {
    return await client.call(command, ...args);
  } catch (error) {
    return (error as Error).message;
  }
}
