/**
 * The configuration page's table of sources and their `UPSTREAM_<NAME>` variables, rendered from the descriptors
 * (`npm run docs:sources` rewrites it; test/docs.test.ts fails when it is out of date).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { SOURCES } from "../src/sources/registry.js";
import type { SourceDescriptor } from "../src/sources/types.js";

export const README_PATH = new URL("../docs/configuration.md", import.meta.url);
const START = "<!-- sources:start (npm run docs:sources) -->";
const END = "<!-- sources:end -->";

export function renderSourcesTable(descriptors: readonly SourceDescriptor[]): string {
  const rows = descriptors.map((source) => {
    const variable = source.maintenance ? "—" : `\`UPSTREAM_${source.upstream.toUpperCase()}\``;
    const state = source.maintenance ? `retired: ${source.maintenance.reason}` : "live";
    const params = source.params.map((param) => `\`${param.name}\` (${param.type})`).join(", ") || "—";
    return `| \`${source.name}\` | ${source.origin} | ${variable} | ${params} | ${state} |`;
  });
  return [
    "| Source (`type`) | Real origin | Override | `params` | State |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The configuration page with its sources table replaced by a fresh rendering. */
export function withSourcesTable(readme: string, descriptors: readonly SourceDescriptor[]): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end < start) throw new Error("docs/configuration.md has no sources table markers");
  return `${readme.slice(0, start + START.length)}\n${renderSourcesTable(descriptors)}\n${readme.slice(end)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync(README_PATH, "utf8");
  writeFileSync(README_PATH, withSourcesTable(readme, SOURCES));
  console.log("docs/configuration.md: sources table rewritten");
}
