import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
// @ts-expect-error: the page's own module, plain JavaScript
import { CATALOGS, translator } from "../web/i18n.js";
import { type Stack, startStack } from "./helpers.js";

describe("validation messages say what is allowed", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false } });
  });
  after(() => stack.close());

  const ask = async (url: string) => {
    const response = await stack.app.inject({ url });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };

  it("in the API: the values or the range, as words and as fields", async () => {
    const profile = encodeURIComponent("https://www.tiktok.com/@grid.maker");
    const format = await ask(`/api/feed?url=${profile}&format=xml`);
    assert.equal(format.status, 400);
    assert.equal(format.body.error, 'The "format" field must be one of atom, rss, json.');
    assert.deepEqual([format.body.field, format.body.values], ["format", ["atom", "rss", "json"]]);
    const feedLimit = await ask(`/api/feed?url=${profile}&limit=51`);
    assert.match(String(feedLimit.body.error), /"limit" field must be a whole number between 1 and 50\./);
    assert.deepEqual([feedLimit.body.min, feedLimit.body.max], [1, 50]);
    for (const limit of ["101", "0", "abc", "2.5"]) {
      const listLimit = await ask(`/api/list?url=${profile}&limit=${limit}`);
      assert.equal(listLimit.status, 400, limit);
      assert.match(String(listLimit.body.error), /between 1 and 100/, limit);
      assert.doesNotMatch(String(listLimit.body.error), /constant|must be integer/);
    }
  });

  it("a link to another site names its host as a field, so no face reads it out of the sentence", async () => {
    const other = await ask(`/api/download?url=${encodeURIComponent("https://example.com/@x/video/1")}`);
    assert.deepEqual(
      [other.status, other.body.code, other.body.host],
      [400, "UNSUPPORTED_HOST", "example.com"],
    );
  });

  it("in the page's four languages", () => {
    for (const language of Object.keys(CATALOGS)) {
      const t = translator(language);
      const oneOf = t("fieldOneOf", { field: "format", values: "atom, rss, json" });
      const between = t("fieldBetween", { field: "limit", min: 1, max: 50 });
      assert.match(oneOf, /format.*atom, rss, json/, language);
      assert.match(between, /limit.*1.*50/, language);
      if (language !== "en")
        assert.notEqual(
          oneOf,
          translator("en")("fieldOneOf", { field: "format", values: "atom, rss, json" }),
        );
    }
  });
});
