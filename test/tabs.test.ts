import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseTikTokListLink } from "../src/domain/tiktok-url.js";
import { makePosts, makeProfile, SAMPLE_PROFILES } from "./fakes/profiles.js";
import { type Stack, startStack } from "./helpers.js";
import { pageTest } from "./support/browser.js";
import { list, listPages, type Page } from "./support/lists.js";
import { LOGIN_KEYS, startStackWithOperatorLogin } from "./support/operator-login.js";

const maker = SAMPLE_PROFILES.get("grid.maker");
const OWNER = makeProfile("tab.owner", makePosts(3, { salt: 9100 }), {
  tabs: {
    liked: { posts: makePosts(20, { salt: 9200 }), author: maker, public: true },
    saved: { posts: makePosts(8, { salt: 9300 }), author: maker },
    reposts: { posts: makePosts(23, { salt: 9400 }), author: maker, public: true },
    stories: { posts: makePosts(7, { salt: 9500 }), public: true },
  },
});
const tab = (name: string) => `https://www.tiktok.com/@tab.owner/${name}`;
const idsOf = (pages: Page[]) => pages.flatMap((page) => page.items.map((item: Page) => item.id as string));

describe("a person's tabs", () => {
  let stack: Stack;
  const KEYS = LOGIN_KEYS;
  before(async () => {
    stack = await startStackWithOperatorLogin();
    stack.fake.profiles.set("tab.owner", OWNER);
  });
  after(() => stack.close());

  it("reads tab links, short forms and pasted text", () => {
    for (const [text, kind] of [
      ["https://www.tiktok.com/@tab.owner/liked", "liked"],
      ["https://www.tiktok.com/@tab.owner/likes", "liked"],
      ["look at my saved https://www.tiktok.com/@tab.owner/saved ok", "saved"],
      ["tiktok.com/@tab.owner/reposts/", "reposts"],
      ["https://m.tiktok.com/@tab.owner/stories", "stories"],
      ["https://www.tiktok.com/following", "following"],
    ] as const) {
      const link = parseTikTokListLink(text);
      assert.equal(link.kind === "list" && link.list, kind, text);
    }
  });

  it("lists a public liked tab without cookies, completely, in order, each item naming its author", async () => {
    const pages = await listPages(stack, tab("liked"), 7);
    assert.deepEqual(
      idsOf(pages),
      OWNER.tabs?.liked?.posts.map((post) => post.id),
    );
    assert.equal(pages[0]?.kind, "liked");
    const item = pages[0]?.items[0];
    assert.equal(item.author.username, "grid.maker");
    assert.match(item.url, /^https:\/\/www\.tiktok\.com\/@grid\.maker\/(video|photo)\//);
  });

  it("reposts by an offset of the items received, stories by MaxCursor", async () => {
    assert.deepEqual(
      idsOf(await listPages(stack, tab("reposts"), 10)),
      OWNER.tabs?.reposts?.posts.map((p) => p.id),
    );
    assert.deepEqual(
      idsOf(await listPages(stack, tab("stories"), 3)),
      OWNER.tabs?.stories?.posts.map((p) => p.id),
    );
  });

  it("a private tab is a 403 LOGIN_REQUIRED, served with the operator's login to a marked key only, never from a cache", async () => {
    const anonymous = await list(stack, { url: tab("saved") });
    assert.deepEqual([anonymous.status, anonymous.body.code], [403, "LOGIN_REQUIRED"]);
    assert.match(anonymous.body.error, /saved videos only to a login/);
    const plain = await list(stack, { url: tab("saved") }, { authorization: `Api-Key ${KEYS.plain}` });
    assert.deepEqual([plain.status, plain.body.code], [403, "LOGIN_REQUIRED"]);
    const marked = await list(
      stack,
      { url: tab("saved"), limit: "5" },
      { authorization: `Api-Key ${KEYS.marked}` },
    );
    assert.equal(marked.status, 200, JSON.stringify(marked.body));
    assert.equal(marked.body.result.items.length, 5);
    const next = await list(
      stack,
      { url: tab("saved"), limit: "5", cursor: marked.body.result.cursor },
      { authorization: `Api-Key ${KEYS.marked}` },
    );
    assert.deepEqual(
      [...marked.body.result.items, ...next.body.result.items].map((item: Page) => item.id),
      OWNER.tabs?.saved?.posts.map((post) => post.id),
    );
    const later = await list(stack, { url: tab("saved"), limit: "5" });
    assert.deepEqual(
      [later.status, later.body.code],
      [403, "LOGIN_REQUIRED"],
      "nothing of it was cached for others",
    );
    const borrowed = await list(stack, { url: tab("saved"), limit: "5", cursor: marked.body.result.cursor });
    assert.deepEqual(
      [borrowed.status, borrowed.body.code],
      [403, "LOGIN_REQUIRED"],
      "a marked key's cursor is no way in",
    );
  });

  it("the following feed is not listed yet, and says so", async () => {
    const answer = await list(stack, { url: "https://www.tiktok.com/following" });
    assert.deepEqual([answer.status, answer.body.code], [400, "UNSUPPORTED_LINK"]);
  });
});

describe("a user's own login in the CLI and the library", () => {
  let fake: import("./fakes/tiktok.js").FakeTikTok;
  let dir: string;
  before(async () => {
    const { FakeTikTok } = await import("./fakes/tiktok.js");
    fake = await new FakeTikTok({ waf: false }).start();
    fake.profiles.set("tab.owner", OWNER);
    fake.servePosts(OWNER.tabs?.saved?.posts ?? [], maker);
    dir = await mkdtemp(join(tmpdir(), "tiktok-dl-own-login-"));
    await writeFile(
      join(dir, "cookies.txt"),
      "# Netscape HTTP Cookie File\n.tiktok.com\tTRUE\t/\tTRUE\t0\tsessionid\tmy-own-login\n",
    );
  });
  after(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("--cookies lists a private saved tab; the cookie reaches TikTok's own hosts only; --server refuses it", async () => {
    const { runCli } = await import("./support/cli.js");
    const env = { UPSTREAM_TIKTOK: fake.url, ALLOW_PRIVATE_UPSTREAMS: "1" };
    const without = await runCli([tab("saved"), "--json"], env, dir);
    assert.match(without.stderr, /saved videos only to a login/);
    const listed = await runCli([tab("saved"), "--json", "--cookies", join(dir, "cookies.txt")], env, dir);
    assert.equal(listed.code, 0, listed.stderr);
    const ids = listed.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { id: string }).id);
    assert.deepEqual(
      ids,
      OWNER.tabs?.saved?.posts.map((post) => post.id),
    );
    const carried = fake.requests.filter((request) =>
      String(request.headers.cookie).includes("my-own-login"),
    );
    assert.ok(carried.length > 0);
    assert.ok(
      carried.every((request) => !request.path.startsWith("/video/tos/") && !request.path.includes("~tplv-")),
    );
    const refused = await runCli(
      [tab("saved"), "--cookies", join(dir, "cookies.txt"), "--server", "http://127.0.0.1:1"],
      {},
      dir,
    );
    assert.equal(refused.code, 2);
  });

  it("createClient({ cookies }) takes the file's text or its path", async () => {
    const { createClient } = await import("../src/library/index.js");
    const { readFile } = await import("node:fs/promises");
    const text = await readFile(join(dir, "cookies.txt"), "utf8");
    for (const cookies of [text, join(dir, "cookies.txt")]) {
      const client = createClient({ upstreams: { tiktok: fake.url }, allowPrivateUpstreams: true, cookies });
      try {
        const page = await client.listPage(tab("saved"), { limit: 8 });
        assert.equal(page.items.length, 8);
      } finally {
        await client.close();
      }
    }
    const missing = createClient({ upstreams: { tiktok: fake.url }, cookies: join(dir, "nope.txt") });
    await assert.rejects(
      missing.ready(),
      /^TikTokDlError: cookies: cannot read .*nope\.txt \(ENOENT\)|cookies: cannot read/,
    );
    await missing.close();
  });
});

describe("the page and a tab TikTok withholds", () => {
  pageTest(
    "explains LOGIN_REQUIRED in plain words, with the command that can do it with one's own login",
    async () => {
      const { chromium } = await import("playwright-core");
      const { CHROMIUM, LAUNCH_ARGS } = await import("./support/browser.js");
      const stack = await startStack({
        fake: { waf: false },
        env: { STREAM_SECRET: "tabs-page-secret-0123456789" },
      });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
      try {
        stack.fake.profiles.set("tab.owner", OWNER);
        await stack.app.listen({ port: 0, host: "127.0.0.1" });
        const page = await browser.newPage();
        await page.goto(
          `http://127.0.0.1:${(stack.app.server.address() as import("node:net").AddressInfo).port}`,
        );
        await page.getByLabel("TikTok links").fill(tab("saved"));
        await page.getByRole("button", { name: "Get downloads" }).click();
        const alert = page.getByRole("alert");
        await alert.waitFor();
        assert.match(await alert.innerText(), /only to its owner's login/);
        assert.match(
          await alert.innerText(),
          /tiktok-dl https:\/\/www\.tiktok\.com\/@tab\.owner\/saved --cookies cookies\.txt/,
        );
      } finally {
        await browser.close();
        await stack.close();
      }
    },
  );
});
