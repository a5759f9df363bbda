import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { FieldColorModeId, MappingType, ThresholdsMode } from "@grafana/schema";
import { type CommandResult, run } from "./command.ts";
import { repoRoot } from "./paths.ts";

/**
 * Grafana's schema types a few fields as TypeScript string enums; JSON can only hold their values.
 * These fields are written as the enum member with that value, so an unknown value stays a plain
 * string and fails the type check.
 */
const enumFields: { path: RegExp; name: string; members: Record<string, string> }[] = [
  { path: /\.thresholds\.mode$/, name: "ThresholdsMode", members: ThresholdsMode },
  { path: /\.color\.mode$/, name: "FieldColorModeId", members: FieldColorModeId },
  { path: /\.mappings\.\d+\.type$/, name: "MappingType", members: MappingType },
];

/** A JSON value as a TypeScript literal (so excess-property checks apply), enums as members. */
export function toTypeScript(value: unknown, path = ""): string {
  if (Array.isArray(value))
    return `[${value.map((item, index) => toTypeScript(item, `${path}.${index}`)).join(", ")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value).map(
      ([key, item]) => `${JSON.stringify(key)}: ${toTypeScript(item, `${path}.${key}`)}`,
    );
    return `{ ${entries.join(", ")} }`;
  }
  if (typeof value === "string") {
    for (const field of enumFields) {
      if (!field.path.test(path)) continue;
      const member = Object.entries(field.members).find(([, enumValue]) => enumValue === value)?.[0];
      if (member) return `${field.name}.${member}`;
    }
  }
  return JSON.stringify(value);
}

/**
 * Type-checks a dashboard against `@grafana/schema`'s `Dashboard` (the dashboard model Grafana's
 * own front end uses) by compiling `const dashboard: Dashboard = <json>;` with `tsc --noEmit`.
 */
export async function typeCheckDashboard(dashboard: unknown): Promise<CommandResult> {
  // Inside the repository, so `@grafana/schema` resolves from its node_modules; `.tmp/` is ignored by git.
  const dir = join(repoRoot, ".tmp", `dashboard-typecheck-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  try {
    const imports = enumFields.map((field) => field.name).join(", ");
    writeFileSync(
      join(dir, "dashboard.ts"),
      `import { type Dashboard, ${imports} } from "@grafana/schema";\n\n` +
        `export const dashboard: Dashboard = ${toTypeScript(dashboard)};\n`,
    );
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          target: "ESNext",
          module: "Preserve",
          moduleResolution: "bundler",
          types: [],
        },
        files: ["dashboard.ts"],
      }),
    );
    const tsc = resolve(repoRoot, "node_modules/typescript/bin/tsc");
    return await run(["node", tsc, "-p", join(dir, "tsconfig.json"), "--pretty", "false"], {
      timeoutMs: 60_000,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
