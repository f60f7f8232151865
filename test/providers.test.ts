import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PROVIDERS } from "../src/sources/registry.js";
import type { SourceDescriptor } from "../src/sources/types.js";
import {
  BROKEN_ID,
  type FakeProviders,
  PHOTO_POST,
  PHOTO_URL,
  PROVIDER_FAKES,
  startProviderFakes,
  VIDEO_POST,
  VIDEO_URL,
} from "./fakes/providers/index.js";
import { download, type Stack, startStack } from "./helpers.js";

const BROKEN_URL = `https://www.tiktok.com/@river.cooks/video/${BROKEN_ID}`;
const MISSING_URL = `https://www.tiktok.com/@river.cooks/video/7558765792041139999`;

const factory = (name: string): SourceDescriptor => {
  const found = PROVIDERS.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no provider ${name}`);
  return found;
};

/** Every live provider is tested against its fake; a provider without one fails here. */
const LIVE = PROVIDERS.filter((descriptor) => !descriptor.maintenance).map((descriptor) => descriptor.name);

describe("each provider against its fake, through the real HTTP client", () => {
  let fakes: FakeProviders;
  before(async () => {
    fakes = await startProviderFakes();
  });
  after(() => fakes.close());

  it("has a fake, with its expected results, for every live provider and for no other", () => {
    assert.deepEqual(Object.keys(PROVIDER_FAKES).sort(), [...LIVE].sort());
  });

  for (const name of LIVE) {
    const fake = PROVIDER_FAKES[name];
    if (!fake) continue;
    const { expected } = fake;
    describe(name, () => {
      let stack: Stack;
      before(async () => {
        stack = await startStack({ env: fakes.env(), deps: { sources: [factory(name)] } });
      });
      after(() => stack.close());

      it("answers a video post", async () => {
        const { status, body } = await download(stack.app, { url: VIDEO_URL });
        assert.equal(status, 200, JSON.stringify(body));
        const result = body.result;
        assert.equal(result.provider, name);
        assert.equal(result.type, "video");
        assert.equal(result.id, VIDEO_POST.id);
        for (const [field, value] of Object.entries(expected.video(fakes.baseOf(name))))
          assert.equal(result.video[field], value, field);
        for (const [field, pattern] of Object.entries(expected.videoPatterns ?? {}))
          assert.match(result.video[field], pattern, field);
        assert.equal(result.urls[0], result.video.noWatermark);
        assert.equal(new Set(result.urls).size, result.urls.length);
        for (const url of result.urls) assert.match(url, /^https?:\/\//);
        if (expected.musicUrl) assert.equal(result.additional.musicUrl, expected.musicUrl);
        if (expected.details) {
          assert.equal(result.author.username, VIDEO_POST.username);
          assert.equal(result.stats.plays, VIDEO_POST.stats.plays);
          assert.equal(result.caption, VIDEO_POST.caption);
        }
      });

      if (expected.photo) {
        it("answers a photo post with its images in order", async () => {
          const { status, body } = await download(stack.app, { url: PHOTO_URL });
          assert.equal(status, 200, JSON.stringify(body));
          assert.equal(body.result.type, "photo");
          assert.deepEqual(body.result.images, PHOTO_POST.images);
          assert.deepEqual(body.result.urls, PHOTO_POST.images);
        });
      }

      it(`says ${expected.missing[1]} when the site does not find the post`, async () => {
        const { status, body } = await download(stack.app, { url: MISSING_URL });
        assert.equal(status, expected.missing[0], JSON.stringify(body));
        assert.equal(body.code, expected.missing[1]);
        assert.match(body.error, new RegExp(name));
      });

      it("fails cleanly on a changed page", async () => {
        const { status, body } = await download(stack.app, { url: BROKEN_URL });
        assert.equal(status, 502, JSON.stringify(body));
        assert.equal(body.code, "ALL_SOURCES_FAILED");
        assert.match(body.error, new RegExp(`${name} \\(`));
      });
    });
  }

  it("lists every provider with its params and maintenance state", async () => {
    const stack = await startStack({ env: fakes.env(), deps: { sources: PROVIDERS } });
    try {
      const providers = (await stack.app.inject({ url: "/api/providers" })).json() as {
        name: string;
        url: string;
        maintenance?: { reason: string };
        params: unknown[];
      }[];
      const names = providers.map((provider) => provider.name);
      for (const name of LIVE) assert.ok(names.includes(name), name);
      for (const retired of ["tikdown", "downtik", "savefrom", "getvidtik", "dddtik", "tokup", "ttsave"]) {
        const entry = providers.find((provider) => provider.name === retired);
        assert.ok(entry?.maintenance?.reason, retired);
      }
      assert.deepEqual(providers.find((provider) => provider.name === "tikwm")?.params, [
        { name: "hd", type: "boolean", required: false },
      ]);
      assert.equal(providers.find((provider) => provider.name === "tikwm")?.url, "https://www.tikwm.com");
    } finally {
      await stack.close();
    }
  });
});
