import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { PLATFORMS } from "../src/domain/platforms.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { CLIPNEST, clipnestSource, FakeClipnest } from "./fakes/clipnest.js";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, type Stack, startStack } from "./helpers.js";

// One of Clipnest's posts has the id of a TikTok sample: the two must never be taken for each other.
const SHARED_ID = SAMPLE_IDS.video;
const OTHER_ID = "42";
const clip = (id: string) => `https://clipnest.example/p/${id}`;
const tiktok = (id: string) => `https://www.tiktok.com/@river.cooks/video/${id}`;

describe("a second platform, wired only through what docs/adding-a-platform.md names", () => {
  let stack: Stack;
  let site: FakeClipnest;
  let base: string;

  before(async () => {
    site = await new FakeClipnest({
      [SHARED_ID]: {
        author: "fern.builds",
        caption: "A shelf from one plank",
        bytes: Buffer.alloc(70_000, 7),
      },
      [OTHER_ID]: { author: "moss.rides", caption: "Gravel at dawn", bytes: Buffer.alloc(30_000, 9) },
    }).start();
    stack = await startStack({
      fake: { waf: false },
      env: { ALLOW_PRIVATE_UPSTREAMS: "1", UPSTREAM_CLIPNEST: site.url, STREAM_SECRET: "s".repeat(32) },
      deps: { platforms: [...PLATFORMS, CLIPNEST], sources: [nativeSource, clipnestSource] },
    });
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await stack.close();
    await site.close();
  });

  it("answers a Clipnest link from Clipnest's source, and a TikTok link with the same id from TikTok", async () => {
    const fromClipnest = await download(stack.app, { url: clip(SHARED_ID) });
    assert.equal(fromClipnest.status, 200, JSON.stringify(fromClipnest.body));
    assert.equal(fromClipnest.body.result.provider, "clipnest");
    assert.equal(fromClipnest.body.result.author.username, "fern.builds");

    const fromTikTok = await download(stack.app, { url: tiktok(SHARED_ID) });
    assert.equal(fromTikTok.status, 200, JSON.stringify(fromTikTok.body));
    assert.equal(fromTikTok.body.result.provider, "native");
    assert.equal(fromTikTok.body.result.author.username, "river.cooks");
    assert.equal(fromTikTok.body.result.cached, false, "Clipnest's cached post is not TikTok's");

    const again = await download(stack.app, { url: clip(SHARED_ID) });
    assert.equal(again.body.result.cached, true);
    assert.equal(again.body.result.author.username, "fern.builds", "TikTok's answer is not Clipnest's");
    assert.equal(site.count(`/api/posts/${SHARED_ID}`), 1, "one upstream request for the cached post");
  });

  it("takes a Clipnest link pasted in a message, and names both sites when the host is neither", async () => {
    const pasted = await download(stack.app, { url: `look at this ${clip(OTHER_ID)} !` });
    assert.equal(pasted.status, 200, JSON.stringify(pasted.body));
    assert.equal(pasted.body.result.author.username, "moss.rides");

    const foreign = await download(stack.app, { url: "https://clipnest.example.org/p/42" });
    assert.equal(foreign.status, 400);
    assert.equal(foreign.body.code, "UNSUPPORTED_HOST");
    assert.match(foreign.body.error, /TikTok, Douyin or Clipnest/);
  });

  it("refuses a source of the other platform by name, and a post Clipnest does not have", async () => {
    const wrong = await download(stack.app, { url: clip(OTHER_ID), type: "native", nocache: "1" });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.code, "INVALID_TYPE");
    const missing = await download(stack.app, { url: clip("777") });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, "NOT_FOUND");
  });

  it("streams the file through the tunnel with the session the source kept, named for its platform", async () => {
    const { body } = await download(stack.app, { url: clip(SHARED_ID) });
    const response = await fetch(`${base}${body.result.stream.video}`);
    assert.equal(response.status, 200);
    assert.match(
      response.headers.get("content-disposition") ?? "",
      new RegExp(`filename="clipnest_fern\\.builds_${SHARED_ID}\\.mp4"`),
    );
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.length, 70_000);
    assert.equal(bytes[0], 7);
  });

  it("keeps the stored-links index per platform", async () => {
    const links = (await stack.app.inject({ url: "/api/stored-links" })).json() as string[];
    assert.ok(links.includes(`https://www.clipnest.example/p/${SHARED_ID}`), links.join(" "));
    assert.ok(links.includes(`https://www.tiktok.com/@river.cooks/video/${SHARED_ID}`), links.join(" "));
  });
});
