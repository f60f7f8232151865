import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
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
