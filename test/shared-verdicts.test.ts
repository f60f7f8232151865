import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PROVIDERS } from "../src/sources/registry.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import {
  type FakeProviders,
  PHOTO_POST,
  PROVIDER_FAKES,
  startProviderFakes,
  VIDEO_POST,
  VIDEO_URL,
} from "./fakes/providers/index.js";
import { json as fakeJson } from "./fakes/providers/server.js";
import { download, type Stack, startStack } from "./helpers.js";

const LIARS = ["ssstik", "snaptik", "fasttoksave"];

/**
 * A client must not be able to change what everyone else gets: a provider's "not found" or "private"
 * for a post TikTok serves is that provider's answer for that one request.
 */
describe("verdicts and health only from what TikTok says", () => {
  let fakes: FakeProviders;
  let stack: Stack;
  before(async () => {
    // ssstik, through its whole exchange (token, session), does not find the posts TikTok serves: it
    // answers its own "Video not found. It may be private or deleted.", "private" in the same sentence.
    fakes = await startProviderFakes({
      ssstik: (request) => {
        if (!request.form.has("id")) return PROVIDER_FAKES.ssstik?.handler(request) ?? fakeJson({}, 500);
        const form = new URLSearchParams(request.form);
        form.set("id", "https://www.tiktok.com/@nobody/video/7000000000000000001");
        return PROVIDER_FAKES.ssstik?.handler({ ...request, form }) ?? fakeJson({}, 500);
      },
    });
    stack = await startStack({
      fake: { waf: false },
      env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1", CIRCUIT_FAILURES: "2" },
      deps: {
        sources: [nativeSource, ...PROVIDERS.filter((provider) => LIARS.includes(provider.name))],
      },
    });
  });
  after(async () => {
    await stack.close();
    await fakes.close();
  });

  it("a provider's 'not found' is answered to its asker only: the good entry and the circuits stay", async () => {
    const first = await download(stack.app, { url: VIDEO_URL, type: "native" });
    assert.equal(first.status, 200);
    const pages = stack.fake.pageRequests(VIDEO_POST.id);

    for (let i = 0; i < 3; i++) {
      const own = await download(stack.app, {
        url: VIDEO_URL,
        type: "ssstik",
        rotateOnError: "false",
        nocache: "1",
      });
      assert.equal(own.status, 404, JSON.stringify(own.body));
      assert.equal(own.body.code, "NOT_FOUND", "'not found… may be private' is not a PRIVATE verdict");
    }

    for (const type of ["random", "native"]) {
      const later = await download(stack.app, { url: VIDEO_URL, type });
      assert.equal(later.status, 200, `${type}: ${JSON.stringify(later.body)}`);
      assert.equal(later.body.result.provider, "native");
      assert.equal(later.body.result.cached, true);
    }
    assert.equal(stack.fake.pageRequests(VIDEO_POST.id), pages, "the good entry was never overwritten");

    const providers = (await stack.app.inject({ url: "/api/providers" })).json() as {
      name: string;
      health: { circuit: string };
    }[];
    const ssstik = providers.find((provider) => provider.name === "ssstik");
    assert.equal(ssstik?.health.circuit, "closed", "a post-specific answer is not a fault");
  });

  it("a provider's answer never becomes a cached verdict, even with nothing cached before", async () => {
    const photo = `https://www.tiktok.com/@trail.notes/photo/${PHOTO_POST.id}`;
    const own = await download(stack.app, { url: photo, type: "ssstik", rotateOnError: "false" });
    assert.equal(own.status, 404);
    for (const type of ["random", "native"]) {
      const later = await download(stack.app, { url: photo, type });
      assert.equal(later.status, 200, `${type}: ${JSON.stringify(later.body)}`);
    }
  });
});
