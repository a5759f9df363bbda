import { resolve } from "node:path";

/** The repository's root folder: the services' entry points are spawned from here. */
export const repoRoot = resolve(import.meta.dir, "../..");
