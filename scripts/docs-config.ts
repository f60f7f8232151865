/**
 * docs/configuration.md's table of settings, rendered from the configuration's schema (names and
 * defaults) and SETTING_DOCS (meanings): `npm run docs:config` rewrites it; a test fails when it is stale.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SETTING_DOCS, SETTINGS_SCHEMA, type SettingName, VARIABLE_FAMILIES } from "../src/service/config.js";

export const CONFIG_DOC_PATH = new URL("../docs/configuration.md", import.meta.url);
const START = "<!-- settings:start (npm run docs:config) -->";
const END = "<!-- settings:end -->";

/** The default the schema gives a setting, as the table shows it. */
function defaultOf(name: SettingName): string {
  type Def = { type?: string; defaultValue?: unknown; in?: { def?: Def }; innerType?: { def?: Def } };
  // A default may sit inside a transform (a pipe) or a refinement: look through them.
  let def = (SETTINGS_SCHEMA.shape[name] as { def?: Def }).def;
  while (def) {
    if (def.type === "default") return `\`${String(def.defaultValue)}\``;
    def = def.in?.def ?? def.innerType?.def;
  }
  return SETTING_DOCS[name].shown ?? "—";
}

export function renderSettingsTable(): string {
  const rows = (Object.keys(SETTINGS_SCHEMA.shape) as SettingName[]).map(
    (name) => `| \`${name}\` | ${defaultOf(name)} | ${SETTING_DOCS[name].meaning} |`,
  );
  const families = VARIABLE_FAMILIES.map(
    (family) => `| \`${family.name}\` | ${family.shown} | ${family.meaning} |`,
  );
  return [START, "| Variable | Default | Meaning |", "| --- | --- | --- |", ...rows, ...families, END].join(
    "\n",
  );
}

/** The page with its settings table replaced by a fresh rendering. */
export function withSettingsTable(page: string): string {
  const start = page.indexOf(START);
  const end = page.indexOf(END);
  if (start === -1 || end < start) throw new Error("docs/configuration.md has no settings table markers");
  return `${page.slice(0, start)}${renderSettingsTable()}${page.slice(end + END.length)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIG_DOC_PATH, withSettingsTable(readFileSync(CONFIG_DOC_PATH, "utf8")));
  console.log("docs/configuration.md: settings table rewritten");
}
