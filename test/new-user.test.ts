import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../src/service/config.js";
import { nativeSource } from "../src/sources/native/index.js";
import { PROVIDERS } from "../src/sources/registry.js";
import { type Stack, startStack } from "./helpers.js";

/** The rough edges a first-time user met (tried on a fresh clone). */
describe("what a new user hits", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false } });
  });
  after(() => stack.close());

  it("/docs works over plain http on any host: no upgrade-insecure-requests in its policy", async () => {
    const page = await stack.app.inject({
      url: "/docs",
      headers: { host: "tiktok-dl.lan:3000" },
    });
    assert.equal(page.statusCode, 200);
    const policy = String(page.headers["content-security-policy"]);
    assert.match(policy, /default-src 'self'/);
    assert.doesNotMatch(policy, /upgrade-insecure-requests/);
  });

  it("GET /api/download has a summary and a tag in the OpenAPI document", async () => {
    const openapi = (await stack.app.inject({ url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { summary?: string; tags?: string[] }>>;
    };
    const get = openapi.paths["/api/download"]?.get;
    assert.ok(get?.summary);
    assert.deepEqual(get?.tags, ["download"]);
  });

  it("/favicon.ico is an icon, not a JSON 404", async () => {
    const icon = await stack.app.inject({ url: "/favicon.ico" });
    assert.equal(icon.statusCode, 200);
    assert.equal(icon.headers["content-type"], "image/svg+xml");
    assert.match(icon.body, /^<svg /);
  });
});

describe("operator messages", () => {
  it("TRUST_PROXY with a host name is refused naming the variable", () => {
    assert.throws(
      () => loadConfig({ TRUST_PROXY: "nginx" }),
      /TRUST_PROXY: expected true, a number of hops, or proxy IP/,
    );
    assert.deepEqual(loadConfig({ TRUST_PROXY: "10.0.0.1, 172.16.0.0/12, ::1" }).trustProxy, [
      "10.0.0.1",
      "172.16.0.0/12",
      "::1",
    ]);
    assert.throws(() => loadConfig({ TRUST_PROXY: "10.0.0.1/40" }), /TRUST_PROXY/);
  });

  it("a missing TIKTOK_COOKIES file stops the start, naming it", async () => {
    await assert.rejects(
      startStack({ fake: { waf: false }, env: { TIKTOK_COOKIES: "/nonexistent/cookies.txt" } }),
      /TIKTOK_COOKIES: cannot read \/nonexistent\/cookies\.txt \(ENOENT\)/,
    );
  });

  it("/api/health lists the sources SOURCES leaves out as disabled, not ok", async () => {
    const stack = await startStack({
      fake: { waf: false },
      env: { SOURCES: "native" },
      deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")] },
    });
    try {
      const health = (await stack.app.inject({ url: "/api/health" })).json() as {
        sources: { name: string; state: string }[];
      };
      assert.deepEqual(
        health.sources.map((source) => [source.name, source.state]),
        [
          ["native", "ok"],
          ["tikwm", "disabled"],
        ],
      );
    } finally {
      await stack.close();
    }
  });
});
