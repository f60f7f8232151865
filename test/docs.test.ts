import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { CONFIG_DOC_PATH, renderSettingsTable } from "../scripts/docs-config.js";
import { README_PATH, renderSourcesTable } from "../scripts/readme-sources.js";
import { loadConfig } from "../src/service/config.js";
import { createServices } from "../src/service/services.js";
import { SOURCES } from "../src/sources/registry.js";

describe("what is derived from the source descriptors", () => {
  it("the configuration page's sources table is the one the descriptors render (npm run docs:sources)", () => {
    assert.ok(readFileSync(README_PATH, "utf8").includes(renderSourcesTable(SOURCES)));
  });

  it("docs/configuration.md's settings table is the one the schema renders (npm run docs:config)", () => {
    assert.ok(
      readFileSync(CONFIG_DOC_PATH, "utf8").includes(renderSettingsTable()),
      "stale: run npm run docs:config",
    );
  });

  it("accepts every descriptor's UPSTREAM_<NAME>, even for a service that runs one source only", async () => {
    const env = Object.fromEntries(
      SOURCES.map((source) => [`UPSTREAM_${source.upstream.toUpperCase()}`, "http://127.0.0.1:9"]),
    );
    const native = SOURCES.filter((source) => source.name === "native");
    const services = createServices(loadConfig(env), { logger: false, sources: native });
    try {
      assert.deepEqual(
        (await services.providers()).map((source) => source.name),
        ["native"],
      );
    } finally {
      await services.close();
    }
  });

  it("names each source once", () => {
    const names = SOURCES.map((source) => source.name);
    assert.equal(new Set(names).size, names.length);
  });
});
