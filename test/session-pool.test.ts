import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Scenario } from "./fakes/tiktok.js";
import { download, type Stack, startStack } from "./helpers.js";

/** Distinct post ids (plausible ids of 2025), each `salt` apart from another set's. */
const postIds = (count: number, salt: number) =>
  Array.from({ length: count }, (_, i) =>
    ((7_500_000_000_000_000_000n + BigInt(salt * 1000 + i) * 4_294_967_296n) | 1n).toString(),
  );

const postLink = (id: string) => `https://www.tiktok.com/@x/video/${id}`;

async function serve(stack: Stack, ids: string[], scenario: Scenario) {
  for (const id of ids) stack.fake.scenarios.set(id, scenario);
}

/** Ten ordinary posts asked at once: each must be answered by TikTok's own page. */
async function tenAtOnce(stack: Stack, salt: number) {
  const ids = postIds(10, salt);
  await serve(stack, ids, { kind: "sample", sample: "video" });
  const answers = await Promise.all(ids.map((id) => download(stack.app, { url: postLink(id) })));
  return answers.map((answer) => answer.status);
}

describe("the kept TikTok sessions always come back to the pool", () => {
  it("four posts whose pages answer 500 on a cold instance leave the pool usable", async () => {
    const stack = await startStack({
      fake: { waf: true },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", TIKTOK_SESSIONS: "4", UPSTREAM_TIMEOUT_MS: "1500" },
    });
    try {
      const broken = postIds(4, 1);
      await serve(stack, broken, { kind: "status", status: 500 });
      for (const id of broken) assert.equal((await download(stack.app, { url: postLink(id) })).status, 502);
      assert.deepEqual(await tenAtOnce(stack, 2), Array(10).fill(200));
    } finally {
      await stack.close();
    }
  });

  it("a captcha and four stub pages on a warm instance leave the pool usable", async () => {
    const stack = await startStack({
      fake: { waf: true },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", TIKTOK_SESSIONS: "4", UPSTREAM_TIMEOUT_MS: "1500" },
    });
    try {
      const [warm] = postIds(1, 3);
      await serve(stack, [warm as string], { kind: "sample", sample: "video" });
      assert.equal((await download(stack.app, { url: postLink(warm as string) })).status, 200);
      const [captcha] = postIds(1, 4);
      await serve(stack, [captcha as string], { kind: "captcha" });
      assert.notEqual((await download(stack.app, { url: postLink(captcha as string) })).status, 200);
      const stubs = postIds(4, 5);
      await serve(stack, stubs, { kind: "stub" });
      for (const id of stubs) assert.notEqual((await download(stack.app, { url: postLink(id) })).status, 200);
      const before = stack.fake.requests.length;
      assert.deepEqual(await tenAtOnce(stack, 6), Array(10).fill(200));
      assert.ok(stack.fake.requests.length > before, "TikTok was asked");
    } finally {
      await stack.close();
    }
  });
});
