import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { parseTikTokListLink } from "../src/domain/tiktok-url.js";
import { makePosts, makeProfile, SAMPLE_PROFILES } from "./fakes/profiles.js";
import { download, type Stack, startStack } from "./helpers.js";
import { pageTest } from "./support/browser.js";
import { list, listPages, type Page } from "./support/lists.js";
import { LOGIN_KEYS, OPERATOR_SESSION, startStackWithOperatorLogin } from "./support/operator-login.js";

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
/** Stories come oldest first (their `MaxCursor` is a time going up). */
const storyIds = (posts: { id: string; createTime: number }[] = []) =>
  [...posts].sort((a, b) => a.createTime - b.createTime).map((post) => post.id);
const idsOf = (pages: Page[]) => pages.flatMap((page) => page.items.map((item: Page) => item.id as string));

describe("a person's tabs", () => {
  let stack: Stack;
  const KEYS = LOGIN_KEYS;
  before(async () => {
    stack = await startStackWithOperatorLogin();
    stack.fake.profiles.set("tab.owner", OWNER);
    stack.fake.logins.set(OPERATOR_SESSION, "tab.owner");
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

  it("lists a tab from a short link, also inside pasted text", async () => {
    for (const url of ["https://vm.tiktok.com/ZMliked01/", "my likes: vt.tiktok.com/ZMliked01 enjoy"]) {
      const { status, body } = await list(stack, { url, limit: "3" });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.result.kind, "liked");
      assert.deepEqual(
        body.result.items.map((item: Page) => item.id),
        OWNER.tabs?.liked?.posts.slice(0, 3).map((post) => post.id),
      );
    }
  });

  it("reposts by an offset of the items received, stories by MaxCursor", async () => {
    assert.deepEqual(
      idsOf(await listPages(stack, tab("reposts"), 10)),
      OWNER.tabs?.reposts?.posts.map((p) => p.id),
    );
    assert.deepEqual(idsOf(await listPages(stack, tab("stories"), 3)), storyIds(OWNER.tabs?.stories?.posts));
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

  it("goes on past an empty answer that says there is more, and ends reposts on HasMoreAfter too", async () => {
    const patient = makeProfile("tab.patient", [], {
      tabs: {
        liked: { posts: makePosts(20, { salt: 9700 }), author: maker, public: true, emptyAnswers: 2 },
        saved: { posts: makePosts(18, { salt: 9720 }), author: maker, public: true, emptyAnswers: 1 },
        reposts: {
          posts: makePosts(23, { salt: 9750 }),
          author: maker,
          public: true,
          moreFlag: "HasMoreAfter",
          emptyAnswers: 1,
        },
        stories: { posts: makePosts(7, { salt: 9800 }), public: true, emptyAnswers: 1 },
      },
    });
    stack.fake.profiles.set(patient.username, patient);
    const url = (name: string) => `https://www.tiktok.com/@tab.patient/${name}`;
    assert.deepEqual(
      idsOf(await listPages(stack, url("liked"), 30)),
      patient.tabs?.liked?.posts.map((p) => p.id),
      "empty answers with hasMore do not end the tab",
    );
    assert.deepEqual(
      idsOf(await listPages(stack, url("saved"), 30)),
      patient.tabs?.saved?.posts.map((p) => p.id),
      "nor the saved tab",
    );
    assert.deepEqual(
      idsOf(await listPages(stack, url("reposts"), 30)),
      patient.tabs?.reposts?.posts.map((p) => p.id),
      "reposts go on while HasMoreAfter",
    );
    assert.deepEqual(
      idsOf(await listPages(stack, url("stories"), 30)),
      storyIds(patient.tabs?.stories?.posts),
      "a MaxCursor that did not move with an empty answer goes on",
    );
  });

  it("liked and saved go on past a cursor that is missing, unchanged or going up (gallery-dl's fallback)", async () => {
    const slips = ["missing", "unchanged", "up"] as const;
    const slipping = makeProfile("tab.slipping", [], {
      tabs: {
        liked: {
          posts: makePosts(60, { salt: 9010 }),
          author: maker,
          public: true,
          cursorSlips: slips.map((slip, index) => ({ at: 15 * (index + 1), slip })),
        },
        saved: {
          posts: makePosts(40, { salt: 9020 }),
          author: maker,
          public: true,
          cursorSlips: [{ at: 0, slip: "missing" }],
        },
      },
    });
    stack.fake.profiles.set(slipping.username, slipping);
    const before = stack.fake.requests.length;
    const url = (name: string) => `https://www.tiktok.com/@tab.slipping/${name}`;
    assert.deepEqual(
      idsOf(await listPages(stack, url("liked"), 30)),
      slipping.tabs?.liked?.posts.map((p) => p.id),
      "every liked post once, in order",
    );
    assert.deepEqual(
      idsOf(await listPages(stack, url("saved"), 30)),
      slipping.tabs?.saved?.posts.map((p) => p.id),
      "a first page without a cursor is asked again",
    );
    assert.deepEqual(slipping.tabs?.liked?.cursorSlips, [], "every slip was served");
    const cursors = stack.fake.requests
      .slice(before)
      .filter((request) => request.path.startsWith("/api/favorite/item_list/"))
      .map((request) => new URL(request.path, "http://x").searchParams.get("cursor"));
    assert.ok(cursors.includes("-50000"), "missing and up: gallery-dl's fallback cursor");
  });

  it("stories go on past a MaxCursor that is missing, goes down or stays (the last story's time)", async () => {
    const slipping = makeProfile("story.slipping", [], {
      tabs: {
        stories: {
          posts: makePosts(22, { salt: 9030 }),
          public: true,
          cursorSlips: [
            { at: 5, slip: "missing" },
            { at: 10, slip: "down" },
            { at: 15, slip: "unchanged" },
          ],
        },
      },
    });
    stack.fake.profiles.set(slipping.username, slipping);
    assert.deepEqual(
      idsOf(await listPages(stack, "https://www.tiktok.com/@story.slipping/stories", 10)),
      storyIds(slipping.tabs?.stories?.posts),
    );
    assert.deepEqual(slipping.tabs?.stories?.cursorSlips, [], "every slip was served");
  });

  it("a private tab opens to its owner's login only: another account's login is no way in", async () => {
    const other = makeProfile("tab.stranger", [], {
      tabs: { saved: { posts: makePosts(4, { salt: 9040 }), author: maker } },
    });
    stack.fake.profiles.set(other.username, other);
    const marked = { authorization: `Api-Key ${KEYS.marked}` };
    const refused = await list(stack, { url: "https://www.tiktok.com/@tab.stranger/saved" }, marked);
    assert.deepEqual(
      [refused.status, refused.body.code],
      [403, "LOGIN_REQUIRED"],
      JSON.stringify(refused.body),
    );
    const own = await list(stack, { url: tab("saved"), limit: "3" }, marked);
    assert.equal(own.status, 200, "the operator's own saved tab opens");
  });

  it("a tab or a collection whose answer comes back as an empty body is asked again, then on another session", async () => {
    for (const times of [1, 2]) {
      const name = `tab.empty.body${times}`;
      const profile = makeProfile(name, [], {
        tabs: {
          liked: {
            posts: makePosts(6, { salt: 9070 + times }),
            author: maker,
            public: true,
            emptyBodies: times,
          },
          reposts: {
            posts: makePosts(6, { salt: 9080 + times }),
            author: maker,
            public: true,
            emptyBodies: times,
          },
        },
      });
      stack.fake.profiles.set(name, profile);
      const id = `73000000000000002${times}0`;
      stack.fake.collections.set(id, {
        kind: "collection",
        id,
        title: "Bodies",
        owner: "grid.maker",
        posts: makePosts(5, { salt: 9090 + times }),
        emptyBodies: times,
      });
      for (const [url, posts] of [
        [`https://www.tiktok.com/@${name}/liked`, profile.tabs?.liked?.posts],
        [`https://www.tiktok.com/@${name}/reposts`, profile.tabs?.reposts?.posts],
        [`https://www.tiktok.com/@grid.maker/collection/Bodies-${id}`, stack.fake.collections.get(id)?.posts],
      ] as const) {
        const { status, body } = await list(stack, { url });
        assert.equal(status, 200, `${url}: ${JSON.stringify(body)}`);
        assert.ok(body.result.items.length >= 5, url);
        assert.deepEqual(
          body.result.items.map((item: Page) => item.id),
          posts?.map((post) => post.id),
          `${url}: every post, in order`,
        );
      }
    }
  });

  it("is asked with the values TikTok expects, which the fake checks (aid, count, verifyFp, loadBackward)", async () => {
    const { newDeviceId, webAppQuery } = await import("../src/sources/tiktok/web/web-app.js");
    const good = webAppQuery({
      count: "15",
      cursor: "0",
      device_id: newDeviceId(),
      secUid: OWNER.secUid,
      post_item_list_request_type: "0",
      needPinnedItemIds: "false",
    });
    const ask = async (change: Record<string, string>) => {
      const query = new URLSearchParams(good);
      for (const [name, value] of Object.entries(change)) query.set(name, value);
      const answer = await fetch(`${stack.fake.url}/api/favorite/item_list/?${query}`);
      return ((await answer.json()) as { statusCode: number }).statusCode;
    };
    assert.equal(await ask({}), 0);
    const changes: Record<string, string>[] = [
      { aid: "1233" },
      { count: "16" },
      { count: "x" },
      { verifyFp: "nope" },
    ];
    for (const change of changes) assert.equal(await ask(change), 10101, JSON.stringify(change));
  });

  it("lists nothing, without a login verdict, when TikTok answers no itemList and no more", async () => {
    const empty = makeProfile("tab.empty", [], {
      tabs: { liked: { posts: makePosts(3, { salt: 9900 }), author: maker, public: true, noItemList: true } },
    });
    stack.fake.profiles.set(empty.username, empty);
    const { status, body } = await list(stack, { url: "https://www.tiktok.com/@tab.empty/liked" });
    assert.equal(status, 200, JSON.stringify(body));
    assert.deepEqual(body.result.items, []);
    assert.equal(body.result.hasMore, false);
  });

  it("a liked tab the profile says is open, answered nothing, is empty; a closed one is withheld", async () => {
    const open = makeProfile("tab.open.empty", [], {
      tabs: { liked: { posts: [], author: maker, public: true }, stories: { posts: [], public: true } },
    });
    const closed = makeProfile("tab.closed", [], { tabs: { liked: { posts: [], author: maker } } });
    stack.fake.profiles.set(open.username, open);
    stack.fake.profiles.set(closed.username, closed);
    const empty = await list(stack, { url: "https://www.tiktok.com/@tab.open.empty/liked" });
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    assert.deepEqual([empty.body.result.items, empty.body.result.hasMore], [[], false]);
    const withheld = await list(stack, { url: "https://www.tiktok.com/@tab.closed/liked" });
    assert.deepEqual([withheld.status, withheld.body.code], [403, "LOGIN_REQUIRED"]);
    // Stories have no such sign (a public account's may be for followers): the verdict says both.
    const stories = await list(stack, { url: "https://www.tiktok.com/@tab.open.empty/stories" });
    assert.deepEqual([stories.status, stories.body.code], [403, "LOGIN_REQUIRED"]);
    assert.match(stories.body.error, /has none now, or shows them to its followers only/);
  });

  it("draws a new device id when a tab repeats its page, and goes on", async () => {
    const stale = makeProfile("tab.stale", [], {
      tabs: { liked: { posts: makePosts(40, { salt: 9850 }), author: maker, public: true, staleDevices: 1 } },
    });
    stack.fake.profiles.set(stale.username, stale);
    const before = stack.fake.requests.length;
    const ids = idsOf(await listPages(stack, "https://www.tiktok.com/@tab.stale/liked", 30));
    assert.deepEqual(
      ids,
      stale.tabs?.liked?.posts.map((p) => p.id),
      "every post once, in order",
    );
    const devices = new Set(
      stack.fake.requests
        .slice(before)
        .filter((request) => request.path.startsWith("/api/favorite/item_list/"))
        .map((request) => new URL(request.path, "http://x").searchParams.get("device_id")),
    );
    assert.ok(devices.size >= 2, "a new device id was drawn");
  });

  it("a story whose own page fails is downloaded from its list item, with the listing's session", async () => {
    const teller = makeProfile("story.teller", [], {
      tabs: { stories: { posts: makePosts(3, { salt: 9550 }), public: true } },
    });
    stack.fake.profiles.set(teller.username, teller);
    const story = teller.tabs?.stories?.posts[0];
    assert.ok(story && !story.photo);
    const url = `https://www.tiktok.com/@story.teller/video/${story.id}`;
    const before = await download(stack.app, { url, type: "native" });
    assert.equal(before.status, 404, "the story's page fails, and nothing listed it yet");
    await listPages(stack, "https://www.tiktok.com/@story.teller/stories", 5);
    const after = await download(stack.app, { url, type: "native", nocache: "true" });
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(after.body.result.id, story.id);
    const file = await stack.app.inject({ url: after.body.result.stream.video });
    assert.equal(file.statusCode, 200);
    assert.equal(file.rawPayload.length, 1_048_576, "the CDN took the listing session's cookies");
  });
});

describe("the following feed", () => {
  let stack: Stack;
  // Twelve followed accounts (two batches), some without stories, one with a photo story; the login's
  // own account comes first in TikTok's list, with stories of its own that are not the feed's.
  const FOLLOWED = Array.from({ length: 12 }, (_, index) =>
    makeProfile(`followed.${index}`, [], {
      tabs: {
        stories: {
          posts: makePosts(index % 4 === 1 ? 0 : (index % 3) + 1, { salt: 9600 + index * 10 }).map(
            (post, position) => ({ ...post, photo: index === 6 && position === 0 }),
          ),
        },
      },
    }),
  );
  const VIEWER = makeProfile("the.viewer", [], {
    tabs: { stories: { posts: makePosts(2, { salt: 9590 }) } },
  });
  const FEED = FOLLOWED.flatMap((profile) => profile.tabs?.stories?.posts.map((post) => post.id) ?? []);
  const marked = { authorization: `Api-Key ${LOGIN_KEYS.marked}` };
  before(async () => {
    stack = await startStackWithOperatorLogin();
    for (const profile of [VIEWER, ...FOLLOWED]) stack.fake.profiles.set(profile.username, profile);
    stack.fake.following.viewer = VIEWER;
    stack.fake.following.accounts.push(...FOLLOWED.map((profile) => profile.username));
  });
  after(() => stack.close());

  it("lists every followed account's stories with the operator's login, in order, for a marked key only", async () => {
    const feedRequests = () => stack.fake.count((request) => request.path.startsWith("/api/story/"));
    for (const headers of [{}, { authorization: `Api-Key ${LOGIN_KEYS.plain}` }] as Record<
      string,
      string
    >[]) {
      const refused = await list(stack, { url: "https://www.tiktok.com/following" }, headers);
      assert.deepEqual([refused.status, refused.body.code], [403, "LOGIN_REQUIRED"]);
    }
    assert.equal(feedRequests(), 0, "a client that may not see it costs no request");
    const pages = await listPages(stack, "https://www.tiktok.com/following", 4, marked);
    assert.deepEqual(idsOf(pages), FEED, "complete, in order, without repeats or the viewer's own");
    assert.equal(pages[0]?.kind, "following");
    assert.ok(pages.flatMap((page) => page.items).some((item: Page) => item.type === "photo"));
    assert.equal(pages[0]?.items[0].author.username, FOLLOWED[0]?.username);
    // gallery-dl's request: 15 accounts at a time (the fake caps at 15 whatever is asked, as TikTok's
    // lists do, so a larger count would still walk the feed and only this shows it).
    const userLists = stack.fake.requests.filter((request) =>
      request.path.startsWith("/api/story/user_list/"),
    );
    assert.ok(userLists.length >= 1);
    for (const request of userLists)
      assert.equal(new URL(request.path, "http://x").searchParams.get("count"), "15");
    const batches = stack.fake.requests.filter((request) => request.path.startsWith("/api/story/batch/"));
    for (const request of batches) {
      const authors = new URL(request.path, "http://x").searchParams.get("authorIds")?.split(",") ?? [];
      assert.ok(authors.length >= 1 && authors.length <= 10);
      assert.ok(!authors.includes(VIEWER.userId));
    }
    const anonymous = await list(stack, { url: "https://www.tiktok.com/following" });
    assert.deepEqual([anonymous.status, anonymous.body.code], [403, "LOGIN_REQUIRED"], "nothing cached");
  });

  it("moves its offset over every storyUsers entry, one without a numeric id too", async () => {
    stack.fake.following.strayEntriesAt.push(1, 2);
    try {
      const pages = await listPages(stack, "https://www.tiktok.com/following", 4, marked);
      assert.deepEqual(idsOf(pages), FEED, "complete, in order, without repeats");
    } finally {
      stack.fake.following.strayEntriesAt.length = 0;
    }
  });

  it("draws a new device id when the feed answers its first page again (a stale device), and goes on", async () => {
    const more = Array.from({ length: 6 }, (_, index) =>
      makeProfile(`followed.more.${index}`, [], {
        tabs: { stories: { posts: makePosts(1, { salt: 9670 + index * 10 }) } },
      }),
    );
    for (const profile of more) stack.fake.profiles.set(profile.username, profile);
    const { accounts } = stack.fake.following;
    accounts.push(...more.map((profile) => profile.username));
    stack.fake.following.staleDevices = 1;
    const before = stack.fake.requests.length;
    try {
      const pages = await listPages(stack, "https://www.tiktok.com/following", 50, marked);
      assert.deepEqual(idsOf(pages), [
        ...FEED,
        ...more.flatMap((profile) => profile.tabs?.stories?.posts.map((post) => post.id) ?? []),
      ]);
      const devices = new Set(
        stack.fake.requests
          .slice(before)
          .filter((request) => request.path.startsWith("/api/story/user_list/"))
          .map((request) => new URL(request.path, "http://x").searchParams.get("device_id")),
      );
      assert.equal(devices.size, 2, "a new device id was drawn once");
    } finally {
      accounts.splice(accounts.length - more.length);
      stack.fake.following.staleDevices = 0;
    }
  });

  it("a feed answer that comes back as an empty body is asked again", async () => {
    stack.fake.following.emptyBodies = 2;
    const pages = await listPages(stack, "https://www.tiktok.com/following", 50, marked);
    assert.deepEqual(idsOf(pages), FEED);
  });

  it("a followed account's story is downloaded from the feed's item by a marked key only, never from a cache", async () => {
    const story = FOLLOWED[0]?.tabs?.stories?.posts[0];
    assert.ok(story);
    await list(stack, { url: "https://www.tiktok.com/following", limit: "3" }, marked);
    const url = `https://www.tiktok.com/@${FOLLOWED[0]?.username}/video/${story.id}`;
    const anonymous = await download(stack.app, { url, type: "native" });
    assert.equal(anonymous.status, 404, "listed with the operator's login: not for anyone");
    const mine = await stack.app.inject({
      url: "/api/download",
      query: { url, type: "native" },
      headers: marked,
    });
    assert.equal(mine.statusCode, 200, mine.body);
    const again = await download(stack.app, { url, type: "native" });
    assert.equal(again.status, 404, "not served from a cache");
  });

  it("a login TikTok does not know, and no login at all, are each LOGIN_REQUIRED", async () => {
    const { createClient } = await import("../src/library/index.js");
    const notALogin = ".tiktok.com\tTRUE\t/\tTRUE\t0\tmsToken\tnot-a-login\n";
    for (const cookies of [notALogin, undefined]) {
      const client = createClient({
        upstreams: { tiktok: stack.fake.url },
        allowPrivateUpstreams: true,
        ...(cookies ? { cookies } : {}),
      });
      try {
        await assert.rejects(
          client.listPage("https://www.tiktok.com/following"),
          (error: Error & { code?: string }) => {
            assert.equal(error.code, "LOGIN_REQUIRED", error.message);
            return true;
          },
        );
      } finally {
        await client.close();
      }
    }
  });
});

describe("a user's own login in the CLI and the library", () => {
  let fake: import("./fakes/tiktok.js").FakeTikTok;
  let dir: string;
  before(async () => {
    const { FakeTikTok } = await import("./fakes/tiktok.js");
    fake = await new FakeTikTok({ waf: false }).start();
    fake.profiles.set("tab.owner", OWNER);
    fake.logins.set("my-own-login", "tab.owner");
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
