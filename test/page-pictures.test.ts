import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Stack, startStack } from "./helpers.js";

describe("pictures for the page", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false } });
  });
  after(() => stack.close());

  it("a grid's covers load together, not counted against the four running downloads a client may have", async () => {
    const page = await stack.app.inject({
      url: "/api/list",
      query: { url: "https://www.tiktok.com/@grid.maker", limit: "20" },
    });
    const covers = (page.json().result.items as { stream?: { thumb?: string } }[])
      .map((item) => item.stream?.thumb)
      .filter((thumb): thumb is string => typeof thumb === "string");
    assert.equal(covers.length, 20);
    stack.fake.imageDelayMs = 300;
    try {
      const answers = await Promise.all(covers.map((cover) => stack.app.inject({ url: cover })));
      assert.deepEqual(
        answers.map((answer) => answer.statusCode),
        covers.map(() => 200),
      );
      for (const answer of answers) assert.match(String(answer.headers["content-type"]), /^image\/jpeg/);
    } finally {
      stack.fake.imageDelayMs = 0;
    }
  });
});
