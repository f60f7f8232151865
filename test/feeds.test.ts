import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseFeed } from "@rowanmanning/feed-parser";
import { type Browser, chromium } from "playwright-core";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { delay, type Stack, startStack } from "./helpers.js";
import { CHROMIUM, LAUNCH_ARGS, pageTest } from "./support/browser.js";
import { runCli } from "./support/cli.js";

const HOSTILE = "Fish & chips <b>\"bold\"</b> 'quoted' 🐟🍟\nsecond line </summary>]]>";
const PROFILE = "https://www.tiktok.com/@feed.maker";
const itemLists = (fake: FakeTikTok) =>
  fake.count((request) => request.path.startsWith("/api/creator/item_list/"));

/** Made once: the posts' times (and so their ids) come from the clock. */
const FEED_PROFILE = makeProfile(
  "feed.maker",
  makePosts(25, { salt: 8100 }).map((post, i) => (i === 0 ? { ...post, caption: HOSTILE } : post)),
);

describe("feeds of a profile", () => {
  let stack: Stack;
  let base: string;
  let dir: string;
  const KEY = "k".repeat(40);
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-feeds-"));
    await writeFile(join(dir, "keys.json"), JSON.stringify({ [KEY]: { name: "reader" } }));
    stack = await startStack({
      fake: { waf: false },
      env: { STREAM_SECRET: "feeds-test-secret-0123456789abcdef", API_KEYS_FILE: join(dir, "keys.json") },
    });
    stack.fake.profiles.set("feed.maker", FEED_PROFILE);
    stack.fake.servePosts(
      stack.fake.profiles.get("feed.maker")?.posts ?? [],
      stack.fake.profiles.get("feed.maker"),
    );
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  const feedOf = (query: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/api/feed?url=${encodeURIComponent(PROFILE)}${query}`, { headers });

  it("Atom and RSS, read by a feed parser: ids, titles, dates, enclosures, and a hostile caption escaped", async () => {
    const posts = FEED_PROFILE.posts;
    for (const [format, type] of [
      ["", "application/atom+xml"],
      ["&format=rss", "application/rss+xml"],
    ] as const) {
      const response = await feedOf(format);
      assert.equal(response.status, 200);
      assert.match(String(response.headers.get("content-type")), new RegExp(type.replace("+", "\\+")));
      const feed = parseFeed(await response.text());
      assert.match(String(feed.title), /feed maker on TikTok/);
      assert.equal(feed.items.length, 20, "the newest 20 by default");
      const first = feed.items[0];
      assert.equal(first?.id, `https://www.tiktok.com/@feed.maker/video/${posts[0]?.id}`);
      assert.equal(first?.url, first?.id);
      assert.equal(first?.title, "Fish & chips <b>\"bold\"</b> 'quoted' 🐟🍟", "the first line, as text");
      assert.match(
        String(first?.description ?? first?.content),
        /Fish &amp; chips &lt;b&gt;|Fish & chips <b>/,
      );
      assert.equal(first?.published?.getTime(), (posts[0]?.createTime ?? 0) * 1000);
      const media = first?.media[0];
      assert.equal(media?.mimeType, posts[0]?.photo ? "application/zip" : "video/mp4");
      assert.equal(
        media?.url,
        `${base}/api/file?url=${encodeURIComponent(first?.id ?? "")}`.replace(/:\/\/127/, "://127"),
      );
      const photo = feed.items.find((item) => item.id?.includes("/photo/"));
      assert.equal(photo?.media[0]?.mimeType, "application/zip");
    }
  });

  it("JSON Feed 1.1 with attachments, limit and type", async () => {
    const response = await feedOf("&format=json&limit=5&type=photo");
    assert.equal(response.headers.get("content-type"), "application/feed+json; charset=utf-8");
    const feed = (await response.json()) as Record<string, any>;
    assert.equal(feed.version, "https://jsonfeed.org/version/1.1");
    assert.ok(feed.items.length > 0 && feed.items.length <= 5);
    for (const item of feed.items) {
      assert.match(item.url, /\/photo\//);
      assert.equal(item.attachments[0].mime_type, "application/zip");
      assert.ok(item.date_published);
    }
    assert.ok(Array.isArray(feed.authors));
  });

  it("a second poll of an unchanged feed is a 304 without a body and without any upstream request", async () => {
    const first = await feedOf("&format=rss");
    const etag = first.headers.get("etag") as string;
    const modified = first.headers.get("last-modified") as string;
    assert.ok(etag && modified);
    assert.match(String(first.headers.get("cache-control")), /^max-age=\d+$/);
    await first.text();
    const before = itemLists(stack.fake);
    const again = await feedOf("&format=rss", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    const since = await feedOf("&format=rss", { "if-modified-since": modified });
    assert.equal(since.status, 304);
    assert.equal(itemLists(stack.fake), before, "no upstream request");
  });

  it("errors are the API's JSON with /api/list's status", async () => {
    const locked = await fetch(
      `${base}/api/feed?url=${encodeURIComponent("https://www.tiktok.com/@locked.down")}`,
    );
    assert.deepEqual([locked.status, ((await locked.json()) as { code: string }).code], [403, "PRIVATE"]);
    const nobody = await fetch(
      `${base}/api/feed?url=${encodeURIComponent("https://www.tiktok.com/@no.body.here")}`,
    );
    assert.equal(nobody.status, 404);
    const bad = await fetch(`${base}/api/feed?url=${encodeURIComponent(PROFILE)}&format=xml`);
    assert.equal(bad.status, 400);
  });

  it("a keyed feed link works, and stops when a parameter changes or its key is removed", async () => {
    const anonymous = await fetch(`${base}/api/feed-link`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: PROFILE }),
    });
    assert.equal(anonymous.status, 401);
    const made = await fetch(`${base}/api/feed-link`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Api-Key ${KEY}` },
      body: JSON.stringify({ url: PROFILE, format: "json", limit: 7 }),
    });
    assert.equal(made.status, 200);
    const { url } = ((await made.json()) as { result: { url: string } }).result;
    assert.doesNotMatch(url, new RegExp(KEY), "never the key itself");
    assert.equal((await fetch(url)).status, 200);
    for (const changed of [
      url.replace("limit=7", "limit=8"),
      url.replace("format=json", "format=rss"),
      `${url}&type=video`,
    ])
      assert.equal((await fetch(changed)).status, 401, changed);
    await writeFile(join(dir, "keys.json"), JSON.stringify({ ["z".repeat(40)]: { name: "other" } }));
    await delay(1100);
    let status = 200;
    for (let waited = 0; status === 200 && waited < 3000; waited += 250) {
      status = (await fetch(url)).status;
      if (status === 200) await delay(250);
    }
    assert.equal(status, 401, "the key was removed");
  });

  it("/api/file redirects to a fresh tunnel link for each kind, and names what a post has", async () => {
    const video = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
    const photo = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;
    const file = (url: string, query = "") =>
      fetch(`${base}/api/file?url=${encodeURIComponent(url)}${query}`, { redirect: "manual" });
    for (const [url, query, token] of [
      [video, "", /^\/api\/stream\/video\./],
      [video, "&kind=hd", /^\/api\/stream\/hd\./],
      [video, "&kind=watermark", /^\/api\/stream\/videoWatermark\./],
      [video, "&kind=audio", /^\/api\/stream\/music\./],
      [photo, "", /^\/api\/stream\/zip\./],
      [photo, "&kind=image&index=2", /^\/api\/stream\/image1\./],
    ] as const) {
      const response = await file(url, query);
      assert.equal(response.status, 302, `${url}${query}`);
      assert.match(String(response.headers.get("location")), token);
      assert.equal(response.headers.get("cache-control"), "no-store");
    }
    const followed = await fetch(`${base}/api/file?url=${encodeURIComponent(video)}`);
    assert.equal(followed.status, 200);
    assert.equal(followed.headers.get("content-type"), "video/mp4");
    await followed.arrayBuffer();
    const missing = await file(video, "&kind=zip");
    assert.equal(missing.status, 404);
    assert.match(
      ((await missing.json()) as { error: string }).error,
      /no zip file; it has: video, hd, watermark, audio/,
    );
  });
});

describe("following from the command line and the page", () => {
  let fake: FakeTikTok;
  let dir: string;
  let browser: Browser | undefined;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-follow-"));
    if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
  });
  after(async () => {
    await browser?.close();
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--break-on-existing: a second sync makes one list request and downloads nothing", async () => {
    const env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" };
    const archive = join(dir, "archive.txt");
    const out = join(dir, "sync");
    const args = [
      "https://www.tiktok.com/@tiny.list",
      "--archive",
      archive,
      "--break-on-existing",
      "-o",
      out,
    ];
    const first = await runCli(args, env, dir);
    assert.equal(first.code, 0, first.stderr);
    const saved = (await readdir(out)).length;
    assert.ok(saved >= 4, `${saved} files`);
    const lists = () => fake.count((request) => request.path.startsWith("/api/creator/item_list/"));
    const pages = () => fake.count((request) => /\/(video|photo)\/\d+$/.test(request.path));
    const [listsBefore, pagesBefore] = [lists(), pages()];
    const second = await runCli(args, env, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(lists() - listsBefore, 1, "one list request");
    assert.equal(pages(), pagesBefore, "no post looked up");
    assert.match(second.stderr, /0 of 0 posts done, 0 files saved\./);
    const usage = await runCli(["https://www.tiktok.com/@tiny.list", "--break-on-existing"], env, dir);
    assert.equal(usage.code, 2);
  });

  pageTest("the page's Follow button gives the feed's URL and says what to do with it", async () => {
    const stack = await startStack({
      sharedFake: fake,
      env: { STREAM_SECRET: "follow-page-secret-0123456789" },
    });
    try {
      await stack.app.listen({ port: 0, host: "127.0.0.1" });
      const base = `http://127.0.0.1:${(stack.app.server.address() as AddressInfo).port}`;
      const context = await (browser as Browser).newContext({
        permissions: ["clipboard-read", "clipboard-write"],
      });
      const page = await context.newPage();
      await page.goto(base);
      await page.getByLabel("TikTok links").fill("https://www.tiktok.com/@tiny.list");
      await page.getByRole("button", { name: "Get downloads" }).click();
      await page.getByRole("button", { name: "Follow" }).click();
      const note = page.locator(".follow-note");
      await note.filter({ hasText: "feed reader" }).waitFor();
      const expected = `${base}/api/feed?url=${encodeURIComponent("https://www.tiktok.com/@tiny.list")}`;
      assert.match(await note.innerText(), /Feed link copied/);
      assert.ok((await note.innerText()).includes(expected));
      assert.equal(await page.evaluate("navigator.clipboard.readText()"), expected);
      const feed = await fetch(expected);
      assert.equal(feed.status, 200);
      await context.close();
    } finally {
      await stack.close();
    }
  });
});
