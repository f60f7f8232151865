import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The protocol documents and samples every developer and CI get beside the project (`../shared/`).
 * The fakes are built from them, so a test reads them rather than a copy that could drift.
 */
export const UPSTREAMS_DIR = fileURLToPath(new URL("../../../shared/upstreams/", import.meta.url));

export function readShared(relativePath: string): string {
  const path = `${UPSTREAMS_DIR}${relativePath}`;
  if (!existsSync(path))
    throw new Error(
      `Missing ${relativePath} in ../shared/upstreams/: the tests need the shared samples beside the project.`,
    );
  return readFileSync(path, "utf8");
}

export const tiktokSample = (name: string) => readShared(`tiktok-samples/${name}.json`).trim();
