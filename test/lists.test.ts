import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { PROVIDERS } from "../src/sources/registry.js";
import { nativeSource } from "../src/sources/tiktok/web/index.js";
import { SAMPLE_COLLECTIONS, SAMPLE_PROFILES } from "./fakes/profiles.js";
import { type FakeProviders, startProviderFakes } from "./fakes/providers/index.js";
import { type Stack, startStack } from "./helpers.js";
import { list, listPages, type Page } from "./support/lists.js";

const PROFILE = "https://www.tiktok.com/@grid.maker";

describe("GET /api/list: profiles, collections and playlists from TikTok", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: true }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
  });
  after(() => stack.close());

  it("lists a 130-post profile completely, newest first, through a stale device id and a 12-day gap", async () => {
    const pages = await listPages(stack, PROFILE, 30);
    const items = pages.flatMap((page) => page.items);
    const expected = SAMPLE_PROFILES.get("grid.maker")?.posts ?? [];
    assert.deepEqual(
      items.map((item) => item.id),
      expected.map((post) => post.id),
      "every post once, in TikTok's order",
    );
    assert.equal(new Set(items.map((item) => item.id)).size, items.length);
    const times = items.map((item) => Date.parse(item.createdAt));
    assert.ok(
      times.every((time, index) => index === 0 || time < (times[index - 1] as number)),
      "newest first",
    );
    assert.equal(pages[0]?.kind, "profile");
    assert.match(pages[0]?.id, /^MS4wLjABAAAA/);
    assert.equal(pages[0]?.title, "grid.maker");
    assert.equal(pages[0]?.owner.username, "grid.maker");
    assert.equal(pages[0]?.total, 130);
    assert.equal(pages.at(-1)?.hasMore, false);
    assert.ok(pages.slice(0, -1).every((page) => page.hasMore && page.items.length === 30));
    const photo = items.find((item) => item.type === "photo");
    assert.match(photo?.url, /\/@grid\.maker\/photo\/\d+$/);
    assert.match(items[0]?.url, /\/@grid\.maker\/video\/\d+$/);
    assert.equal(typeof items[0]?.stats.plays, "number");
  });

  it("answers a page again from the cache, for everyone asking", async () => {
    const first = await list(stack, { url: `${PROFILE}?lang=en`, limit: "7" });
    assert.equal(first.body.result.cached, false);
    const requests = stack.fake.requests.length;
    const again = await Promise.all([1, 2, 3].map(() => list(stack, { url: PROFILE, limit: "7" })));
    assert.ok(again.every(({ body }) => body.result.cached === true));
    assert.equal(stack.fake.requests.length, requests, "no upstream request for a cached page");
  });

  it("private, unknown and empty accounts", async () => {
    const locked = await list(stack, { url: "https://www.tiktok.com/@locked.down" });
    assert.deepEqual([locked.status, locked.body.code], [403, "PRIVATE"]);
    const unknown = await list(stack, { url: "https://www.tiktok.com/@nobody.here" });
    assert.deepEqual([unknown.status, unknown.body.code], [404, "NOT_FOUND"]);
    const empty = await list(stack, { url: "https://m.tiktok.com/@quiet.one" });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.result.items, []);
    assert.equal(empty.body.result.hasMore, false);
    assert.equal(empty.body.result.total, 0);
  });

  it("a profile page without secUid: the embed page and one post give it", async () => {
    const pages = await listPages(stack, "https://www.tiktok.com/@no.secuid", 25);
    assert.equal(pages.flatMap((page) => page.items).length, 40);
    assert.ok(stack.fake.requests.some((request) => request.path === "/embed/@no.secuid"));
  });

  it("a collection and a playlist across pages", async () => {
    const collection = SAMPLE_COLLECTIONS.get("7300000000000000001");
    const pages = await listPages(
      stack,
      "https://www.tiktok.com/@grid.maker/collection/Best%20bits-7300000000000000001",
      20,
    );
    assert.deepEqual(
      pages.map((page) => page.items.length),
      [20, 20, 5],
    );
    assert.deepEqual(
      pages.flatMap((page) => page.items.map((item: Page) => item.id)),
      collection?.posts.map((post) => post.id),
    );
    assert.equal(pages[0]?.kind, "collection");
    assert.equal(pages[0]?.title, "Best bits");
    const playlist = await listPages(
      stack,
      "https://www.tiktok.com/@grid.maker/playlist/Lake-series-7300000000000000002",
      20,
    );
    assert.deepEqual(
      playlist.map((page) => page.items.length),
      [20, 13],
    );
    assert.equal(playlist[0]?.kind, "playlist");
    const missing = await list(stack, {
      url: "https://www.tiktok.com/@grid.maker/collection/x-7300000000000000099",
    });
    assert.equal(missing.status, 404);
  });

  it("a short link to a profile, and a profile inside a pasted message", async () => {
    const short = await list(stack, { url: "https://vm.tiktok.com/ZMprofile/", limit: "5" });
    assert.equal(short.status, 200, JSON.stringify(short.body));
    assert.equal(short.body.result.owner.username, "grid.maker");
    const pasted = await stack.app.inject({
      method: "POST",
      url: "/api/list",
      payload: { url: "all of it: https://www.tiktok.com/@grid.maker please", limit: 5 },
    });
    assert.equal(pasted.statusCode, 200);
  });

  it("refuses a forged or borrowed cursor before any upstream request, and points each link to its route", async () => {
    const first = await list(stack, { url: PROFILE, limit: "10" });
    const cursor = first.body.result.cursor as string;
    const requests = stack.fake.requests.length;
    const [payload, signature] = cursor.split(".");
    const forged = Buffer.from(
      JSON.stringify({ s: "native", l: "profile:grid.maker", p: { t: 1, d: "1" } }),
    ).toString("base64url");
    for (const bad of [
      `${forged}.${signature}`,
      `${payload}.AAAA${signature?.slice(4)}`,
      "nonsense",
      `${payload}`,
    ]) {
      const answer = await list(stack, { url: PROFILE, cursor: bad });
      assert.deepEqual([answer.status, answer.body.code], [400, "INVALID_PARAMETER"], bad);
    }
    const borrowed = await list(stack, { url: "https://www.tiktok.com/@quiet.one", cursor });
    assert.equal(borrowed.status, 400, "a cursor belongs to its list");
    assert.equal(stack.fake.requests.length, requests);
    const post = await list(stack, { url: "https://www.tiktok.com/@grid.maker/video/7558765792041131240" });
    assert.deepEqual([post.status, post.body.code], [400, "UNSUPPORTED_LINK"]);
    assert.match(post.body.error, /\/api\/download/);
    const download = await stack.app.inject({ url: "/api/download", query: { url: PROFILE } });
    assert.equal(download.statusCode, 400);
    assert.match(download.json().error, /\/api\/list/);
    for (const limit of ["0", "101", "x"])
      assert.equal((await list(stack, { url: PROFILE, limit })).status, 400, `limit=${limit}`);
    const index = (await stack.app.inject({ url: "/api" })).body;
    assert.match(index, /\/api\/list/);
    const openapi = (await stack.app.inject({ url: "/openapi.json" })).json() as {
      paths: Record<string, unknown>;
    };
    assert.ok(openapi.paths["/api/list"], "the OpenAPI document has /api/list");
  });
});

describe("lists when TikTok refuses them", () => {
  let fakes: FakeProviders;
  let stack: Stack;
  before(async () => {
    fakes = await startProviderFakes();
    stack = await startStack({
      fake: { waf: false },
      env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1", RATE_LIMIT: "3" },
      deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")] },
    });
  });
  after(async () => {
    await stack.close();
    await fakes.close();
  });

  it("tikwm's profile list serves the account, page after page, each page one request of the budget", async () => {
    const first = await list(stack, { url: "https://www.tiktok.com/@lists.refused", limit: "30" });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.result.provider, "tikwm");
    assert.equal(first.body.result.total, 50);
    const second = await list(stack, {
      url: "https://www.tiktok.com/@lists.refused",
      limit: "30",
      cursor: first.body.result.cursor,
    });
    assert.equal(second.body.result.provider, "tikwm", "a cursor goes back to the source that gave it");
    const ids = [...first.body.result.items, ...second.body.result.items].map((item: Page) => item.id);
    assert.deepEqual(
      ids,
      SAMPLE_PROFILES.get("lists.refused")?.posts.map((post) => post.id),
    );
    assert.equal(second.body.result.hasMore, false);
    const third = await list(stack, { url: "https://www.tiktok.com/@grid.maker", limit: "5" });
    assert.equal(third.status, 200);
    const fourth = await list(stack, { url: "https://www.tiktok.com/@quiet.one" });
    assert.deepEqual([fourth.status, fourth.body.code], [429, "RATE_LIMITED"]);
  });

  it("names each source tried when all fail", async () => {
    const failing = await startStack({
      fake: { waf: false },
      env: { ...fakes.env(), ALLOW_PRIVATE_UPSTREAMS: "1" },
      deps: { sources: [nativeSource, ...PROVIDERS.filter((provider) => provider.name === "tikwm")] },
    });
    fakes.faults.set("tikwm", "http500");
    try {
      const answer = await list(failing, { url: "https://www.tiktok.com/@lists.refused" });
      assert.deepEqual([answer.status, answer.body.code], [502, "ALL_SOURCES_FAILED"]);
      assert.match(answer.body.error, /native \(http_status: TikTok answered HTTP 403\)/);
      assert.match(answer.body.error, /tikwm \(http_status: tikwm answered HTTP 500\)/);
    } finally {
      fakes.faults.delete("tikwm");
      await failing.close();
    }
  });
});
