import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SaxesParser } from "saxes";
import { request } from "undici";
import { type FakePost, makePosts, makeProfile } from "./fakes/profiles.js";
import { type Stack, startStack } from "./helpers.js";

/** Every caption hazard: CDATA ends once, twice and split, markup, entities, controls, non-characters, lone surrogates, length. */
const HAZARDS = [
  "one ]]> end",
  "two ]]><entry><title>injected</title></entry> and ]]><item><title>injected</title></item>",
  "split ]]]]><![CDATA[> end",
  "<script>alert(1)</script>",
  "&amp; &lt; &#0; &#x1; &unknown; &",
  "nul \u0000 here",
  `controls ${Array.from({ length: 31 }, (_, code) => String.fromCharCode(code + 1)).join("")} end`,
  "non-characters \ufffe \uffff end",
  "lone \ud800 and \udc00 surrogates",
  `${"long caption ".repeat(770)}]]>`,
];

/** Parses `xml` with a strict XML 1.0 parser: every well-formedness and character error throws. */
function strictXml(xml: string) {
  const parser = new SaxesParser({ xmlns: true });
  const elements: string[] = [];
  /** Atom's `<link rel="enclosure">` and RSS's `<enclosure>`. */
  let enclosures = 0;
  const texts: string[] = [];
  parser.on("error", (error) => {
    throw error;
  });
  parser.on("opentag", (tag) => {
    elements.push(tag.local);
    const rel = tag.attributes.rel;
    if (
      tag.local === "enclosure" ||
      (tag.local === "link" && typeof rel === "object" && rel.value === "enclosure")
    )
      enclosures++;
  });
  parser.on("text", (text) => texts.push(text));
  parser.on("cdata", (text) => texts.push(text));
  parser.write(xml).close();
  return { elements, enclosures, text: texts.join("") };
}

const posts = (salt: number, captions: string[]): FakePost[] =>
  makePosts(captions.length, { salt }).map((post, index) => ({ ...post, caption: captions[index] }));

describe("feeds a caption cannot rewrite", () => {
  let stack: Stack;
  let dir: string;
  const KEY = "r".repeat(40);
  const OTHER = "o".repeat(40);
  const hazardous = makeProfile("hazard.maker", posts(13_100, HAZARDS));
  const plainOwner = makeProfile("plain.maker", makePosts(5, { salt: 13_200 }));
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-feed-safety-"));
    await writeFile(
      join(dir, "keys.json"),
      JSON.stringify({
        [KEY]: { name: "reader", userAgents: ["NetNewsWire*"] },
        [OTHER]: { name: "other" },
      }),
    );
    stack = await startStack({
      fake: { waf: false },
      env: { API_KEYS_FILE: join(dir, "keys.json"), LIST_CACHE_TTL: "60", FEED_CACHE_MB: "8" },
    });
    for (const profile of [hazardous, plainOwner]) stack.fake.profiles.set(profile.username, profile);
  });
  after(async () => {
    await stack.close();
    await rm(dir, { recursive: true, force: true });
  });

  const feed = (query: Record<string, string>, headers: Record<string, string> = {}) =>
    stack.app.inject({ url: "/api/feed", query, headers });

  /** The feed of @plain.maker from another instance with these settings, asked under `host`. */
  async function feedOfInstance(env: Record<string, string>, host: string) {
    const instance = await startStack({
      sharedFake: stack.fake,
      env: { ...env, ALLOW_PRIVATE_UPSTREAMS: "1" },
    });
    try {
      return await instance.app.inject({
        url: "/api/feed",
        query: { url: "https://www.tiktok.com/@plain.maker" },
        headers: { host },
      });
    } finally {
      await instance.close();
    }
  }

  it("Atom and RSS are well-formed XML 1.0 for every caption hazard, with exactly one entry per post", async () => {
    for (const format of ["atom", "rss"]) {
      const response = await feed({ url: "https://www.tiktok.com/@hazard.maker", format });
      assert.equal(response.statusCode, 200, response.body);
      const { elements, enclosures, text } = strictXml(response.body);
      const entries = elements.filter((name) => name === (format === "atom" ? "entry" : "item"));
      assert.equal(entries.length, HAZARDS.length, `${format}: no entry injected`);
      assert.equal(enclosures, HAZARDS.length, `${format}: one enclosure per post, none injected`);
      assert.doesNotMatch(text, /<script>/, `${format}: markup stays text, escaped as HTML`);
      assert.doesNotMatch(response.body, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/);
      assert.doesNotMatch(
        response.body,
        /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/,
      );
    }
    const json = await feed({ url: "https://www.tiktok.com/@hazard.maker", format: "json" });
    assert.equal(json.json().items.length, HAZARDS.length);
  });

  it("links are written for PUBLIC_URL or an allowed Host only, never for a Host a client made up", async () => {
    const evil = await feed({ url: "https://www.tiktok.com/@plain.maker" }, { host: "evil.example" });
    assert.equal(evil.statusCode, 400, evil.body);
    assert.equal(evil.json().code, "HOST_NOT_ALLOWED");
    const link = await stack.app.inject({
      method: "POST",
      url: "/api/feed-link",
      headers: { host: "evil.example", authorization: `Api-Key ${OTHER}` },
      payload: { url: "https://www.tiktok.com/@plain.maker" },
    });
    assert.equal(link.statusCode, 400, link.body);
    const configured = await feedOfInstance({ PUBLIC_URL: "https://dl.example.com/tt/" }, "evil.example");
    assert.equal(configured.statusCode, 200, configured.body);
    assert.doesNotMatch(configured.body, /evil\.example/);
    assert.match(configured.body, /https:\/\/dl\.example\.com\/tt\/api\/file\?url=/);
    const allowed = await feedOfInstance({ ALLOWED_HOSTS: "dl.example.net" }, "dl.example.net");
    assert.equal(allowed.statusCode, 200, allowed.body);
    assert.match(allowed.body, /http:\/\/dl\.example\.net\/api\/file/);
  });

  it("600 feeds with junk parameters and Host headers stay within the rendered feeds' byte bound", async () => {
    const long = makeProfile(
      "long.captions",
      posts(
        13_400,
        Array.from({ length: 30 }, (_, index) => `${index} ${"a long caption ".repeat(200)}`),
      ),
    );
    stack.fake.profiles.set(long.username, long);
    const url = "https://www.tiktok.com/@long.captions";
    // Over real HTTP: app.inject keeps what it answered (docs/performance.md), which would be measured too.
    await stack.app.listen({ port: 0, host: "127.0.0.1" });
    const port = (stack.app.server.address() as AddressInfo).port;
    const get = async (query: Record<string, string>, host: string) => {
      const response = await request(`http://127.0.0.1:${port}/api/feed?${new URLSearchParams(query)}`, {
        headers: { host },
      });
      await response.body.dump();
      return response.statusCode;
    };
    await get({ url }, "localhost");
    const inUse = () => {
      globalThis.gc?.();
      return process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
    };
    const start = inUse();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 600; i++) {
      const status = await get(
        { url, format: ["atom", "rss", "json"][i % 3] as string, [`junk${i}`]: String(i), limit: "50" },
        i % 2 ? `evil${i}.example` : `localhost:${1000 + i}`,
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
    const grown = inUse() - start;
    assert.deepEqual(Object.fromEntries(statuses), { 200: 300, 400: 300 });
    // 300 distinct origins × about 0.2 MB of feed each would be some 60 MB kept; the cache holds 8 MiB.
    assert.ok(grown < 24 * 1024 ** 2, `the heap grew ${Math.round(grown / 1024 ** 2)} MiB`);
  });

  it("a keyed feed link keeps its key's user agents", async () => {
    const signed = await stack.app.inject({
      method: "POST",
      url: "/api/feed-link",
      headers: { authorization: `Api-Key ${KEY}`, "user-agent": "NetNewsWire/6.1" },
      payload: { url: "https://www.tiktok.com/@plain.maker" },
    });
    assert.equal(signed.statusCode, 200, signed.body);
    const path = new URL(signed.json().result.url).pathname + new URL(signed.json().result.url).search;
    const reader = await stack.app.inject({ url: path, headers: { "user-agent": "NetNewsWire/6.1" } });
    assert.equal(reader.statusCode, 200, reader.body);
    const stranger = await stack.app.inject({ url: path, headers: { "user-agent": "curl/8.0" } });
    assert.equal(stranger.statusCode, 403, stranger.body);
    assert.equal(stranger.json().code, "API_KEY_USER_AGENT_FORBIDDEN");
  });

  it("a conditional poll after the page expired costs one page's requests, and none once another client refreshed it", async () => {
    const short = await startStack({
      sharedFake: stack.fake,
      env: { LIST_CACHE_TTL: "1", ALLOW_PRIVATE_UPSTREAMS: "1" },
    });
    try {
      const url = "https://www.tiktok.com/@grid.maker";
      const upstream = () => stack.fake.requests.length;
      let before = upstream();
      const first = await short.app.inject({ url: "/api/feed", query: { url } });
      const onePage = upstream() - before;
      assert.ok(onePage >= 1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const conditional = { "if-none-match": String(first.headers.etag) };
      before = upstream();
      const poll = await short.app.inject({ url: "/api/feed", query: { url }, headers: conditional });
      assert.equal(poll.statusCode, 304);
      assert.ok(upstream() - before <= onePage, `${upstream() - before} requests for one page of ${onePage}`);
      before = upstream();
      const other = await short.app.inject({ url: "/api/feed", query: { url, format: "rss" } });
      const again = await short.app.inject({ url: "/api/feed", query: { url }, headers: conditional });
      assert.deepEqual([other.statusCode, again.statusCode], [200, 304]);
      assert.equal(upstream() - before, 0, "the page another client refreshed serves the poll");
    } finally {
      await short.close();
    }
  });

  it("an edited caption changes the ETag; an unchanged page keeps it", async () => {
    const owner = makeProfile("edit.maker", makePosts(4, { salt: 13_300 }));
    stack.fake.profiles.set(owner.username, owner);
    const url = "https://www.tiktok.com/@edit.maker";
    const first = await feed({ url });
    const etag = String(first.headers.etag);
    const same = await feed({ url, nocache: "1" }, { "if-none-match": etag });
    assert.equal(same.statusCode, 304);
    const refreshed = await stack.app.inject({ url: "/api/list", query: { url, nocache: "true" } });
    assert.equal(refreshed.statusCode, 200);
    const unchanged = await feed({ url }, { "if-none-match": etag });
    assert.equal(unchanged.statusCode, 304, "a refreshed page with the same entries is the same feed");
    const edited = owner.posts.map((post, index) =>
      index === 1 ? { ...post, caption: "edited caption" } : post,
    );
    stack.fake.profiles.set(owner.username, { ...owner, posts: edited });
    await stack.app.inject({ url: "/api/list", query: { url, nocache: "true" } });
    const changed = await feed({ url }, { "if-none-match": etag });
    assert.equal(changed.statusCode, 200, "the edited entry makes a new ETag");
    assert.notEqual(changed.headers.etag, etag);
    assert.match(changed.body, /edited caption/);
  });
});
