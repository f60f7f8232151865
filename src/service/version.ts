import { readFileSync } from "node:fs";

/**
 * The package's version, read from its package.json: found upwards from this module, which runs from
 * src/ (tsx), from dist/src/ (the build), or inside node_modules/tiktok-dl/ (the library).
 */
export function packageVersion(): string {
  let folder = new URL("./", import.meta.url);
  for (let depth = 0; depth < 5; depth++) {
    folder = new URL("../", folder);
    try {
      const manifest = JSON.parse(readFileSync(new URL("package.json", folder), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === "tiktok-dl" && manifest.version) return manifest.version;
    } catch {
      // Not here: one folder up.
    }
  }
  return "0.0.0";
}
