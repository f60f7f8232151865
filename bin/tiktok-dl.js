#!/usr/bin/env node
// The command-line downloader. Runs the built code when there is a build, else the TypeScript
// sources through tsx, so that `npx tiktok-dl` works in a fresh checkout after `npm ci`.
import { existsSync } from "node:fs";

const built = new URL("../dist/src/cli/index.js", import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(new URL("../src/cli/index.ts", import.meta.url).href);
}
