import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { itemsOfPages, type ListItem } from "../src/domain/lists.js";
import { PROVIDERS } from "../src/sources/registry.js";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { delay, download, type Stack, startStack } from "./helpers.js";
import { list, listPages, type Page, startNativeAndTikwm } from "./support/lists.js";

const _tikwmOnly = PROVIDERS.filter((provider) => provider.name === "tikwm");

describe("lists that must not steer the service", () => {
  let stack: Stack;
  before(async () => {
    stack = await startNativeAndTikwm();
  });
  after(() => stack.close());

  it("three accounts TikTok refuses to list leave native's circuit for posts closed", async () => {
    for (const name of ["refused.a", "refused.b", "refused.c"]) {
      stack.fake.profiles.set(name, makeProfile(name, makePosts(3, { salt: 70 }), { refuseLists: true }));
      const answer = await list(stack, { url: `https://www.tiktok.com/@${name}`, type: "native" });
      assert.equal(answer.status, 502);
    }
    for (const name of ["refused.d", "refused.e", "refused.f"]) {
      stack.fake.profiles.set(name, makeProfile(name, makePosts(3, { salt: 80 }), { refuseLists: true }));
      await list(stack, { url: `https://www.tiktok.com/@${name}` });
    }
    const post = await download(stack.app, {
      url: "https://www.tiktok.com/@river.cooks/video/7558765792041131240",
    });
    assert.equal(post.status, 200);
    assert.equal(post.body.result.provider, "native", "the post went to TikTok, not to a third party");
  });

  it("refuses a third party's page of another account's posts, and caches nothing of it", async () => {
    for (let round = 0; round < 2; round++) {
      const answer = await list(stack, { url: "https://www.tiktok.com/@foreign.posts" });
      assert.equal(answer.status, 502, JSON.stringify(answer.body));
      assert.match(answer.body.error, /tikwm \(invalid_result: tikwm listed a post of @grid\.maker/);
    }
  });

  it("ends a third party's listing that repeats the same page for ever", async () => {
    const first = await list(stack, { url: "https://www.tiktok.com/@endless.page", limit: "34" });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal(first.body.result.items.length, 34);
    assert.equal(first.body.result.hasMore, true);
    const second = await list(stack, {
      url: "https://www.tiktok.com/@endless.page",
      limit: "34",
      cursor: first.body.result.cursor,
    });
    assert.equal(second.status, 200);
    assert.deepEqual(second.body.result.items, [], "no post appears twice");
    assert.equal(second.body.result.hasMore, false, "a page that brings nothing new ends the listing");
  });

  it("a whole listing of that account gives each post once and stops", async () => {
    const pages = await listPages(stack, "https://www.tiktok.com/@endless.page", 10);
    const ids = pages.flatMap((page) => page.items.map((item: Page) => item.id));
    assert.ok(pages.length < 20, `${pages.length} pages`);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe("the cursor is checked before anything else", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ fake: { waf: false }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
  });
  after(() => stack.close());

  it("a forged cursor with a short link costs no short-link look-up", async () => {
    const before = stack.fake.requests.length;
    for (let i = 0; i < 5; i++) {
      const answer = await list(stack, {
        url: "https://vm.tiktok.com/ZMprofile/",
        cursor: `eyJzIjoibmF0aXZlIn0.${"A".repeat(22)}${i}`,
      });
      assert.deepEqual([answer.status, answer.body.code], [400, "INVALID_PARAMETER"]);
    }
    assert.equal(stack.fake.requests.length, before, "TikTok was not asked");
  });

  it("a cursor we gave, with anything added, is refused", async () => {
    const first = await list(stack, { url: "https://www.tiktok.com/@grid.maker", limit: "5" });
    const cursor = first.body.result.cursor as string;
    assert.equal((await list(stack, { url: "https://www.tiktok.com/@grid.maker", cursor })).status, 200);
    for (const altered of [`${cursor}.junk`, `${cursor}.`, `.${cursor}`, `${cursor} `]) {
      const answer = await list(stack, { url: "https://www.tiktok.com/@grid.maker", cursor: altered });
      assert.equal(answer.status, 400, altered);
    }
  });

  it("nocache asks TikTok again; a nocache that is not a flag is a 400", async () => {
    const url = "https://www.tiktok.com/@tiny.list";
    const count = () => stack.fake.count((request) => request.path.startsWith("/api/creator/item_list/"));
    await list(stack, { url });
    const cached = await list(stack, { url });
    assert.equal(cached.body.result.cached, true);
    const before = count();
    const fresh = await list(stack, { url, nocache: "1" });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.body.result.cached, false);
    assert.ok(count() > before, "TikTok was asked again");
    const bad = await list(stack, { url, nocache: "maybe" });
    assert.deepEqual([bad.status, bad.body.code], [400, "INVALID_PARAMETER"]);
  });
});

describe("a listing nobody waits for stops", () => {
  it("no upstream request once the only client has gone", async () => {
    const stack = await startStack({ fake: { waf: false }, env: { ALLOW_PRIVATE_UPSTREAMS: "1" } });
    try {
      // Posts three weeks apart: each page steps over empty weeks, one slow request after another.
      const posts = makePosts(40, { salt: 5100 }).map((post, index) => {
        const createTime = post.createTime - index * 20 * 86_400;
        return { ...post, createTime };
      });
      stack.fake.profiles.set("slow.gaps", makeProfile("slow.gaps", posts, { listDelayMs: 150 }));
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const port = (stack.app.server.address() as AddressInfo).port;
      const lists = () => stack.fake.count((request) => request.path.startsWith("/api/creator/item_list/"));
      const leave = new AbortController();
      const asked = fetch(
        `http://127.0.0.1:${port}/api/list?url=https://www.tiktok.com/@slow.gaps&limit=40`,
        {
          signal: leave.signal,
        },
      ).catch(() => undefined);
      while (lists() < 2) await delay(20);
      leave.abort();
      await asked;
      const atLeave = lists();
      await delay(1000);
      assert.ok(lists() <= atLeave + 1, `${lists() - atLeave} list requests after the client left`);
    } finally {
      await stack.close();
    }
  });
});

describe("walking a whole listing", () => {
  const item = (id: number): ListItem => ({
    id: String(id),
    url: `https://www.tiktok.com/@x/video/${id}`,
    type: "video",
    createdAt: new Date(1_700_000_000_000 - id * 1000).toISOString(),
  });

  it("ends when a source repeats its page for ever, and at the limit", async () => {
    let calls = 0;
    const endless = async () => {
      calls++;
      return { items: [item(1), item(2)], cursor: "again" };
    };
    const all: string[] = [];
    for await (const post of itemsOfPages(endless, {})) all.push(post.id);
    assert.deepEqual(all, ["1", "2"]);
    assert.equal(calls, 2);

    calls = 0;
    const empty = async () => {
      calls++;
      return { items: [], cursor: "again" };
    };
    for await (const _ of itemsOfPages(empty, { limit: 5 })) assert.fail("no item");
    assert.equal(calls, 3, "a bound of pages without progress");

    calls = 0;
    let next = 0;
    const growing = async () => {
      calls++;
      return { items: [item(next++), item(next++)], cursor: "more" };
    };
    const five: string[] = [];
    for await (const post of itemsOfPages(growing, { limit: 5 })) five.push(post.id);
    assert.equal(five.length, 5);
    assert.equal(calls, 3);
  });
});
