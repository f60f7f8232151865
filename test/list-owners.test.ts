import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { download, type Stack } from "./helpers.js";
import { list, listPages, type Page } from "./support/lists.js";
import { LOGIN_KEYS, OPERATOR_SESSION, startStackWithOperatorLogin } from "./support/operator-login.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const redisUp = await redisAnswers(REDIS_URL);

const TABS = ["liked", "saved", "reposts", "stories"] as const;
/** Two owners, each with every tab (public), of different posts by two authors. */
const ALICE = makeProfile("alice.tabs", makePosts(2, { salt: 12_100 }), {
  tabs: Object.fromEntries(
    TABS.map((tab, index) => [tab, { posts: makePosts(6, { salt: 12_200 + index * 10 }), public: true }]),
  ),
});
const BOB = makeProfile("bob.tabs", makePosts(2, { salt: 12_300 }), {
  tabs: Object.fromEntries(
    TABS.map((tab, index) => [tab, { posts: makePosts(6, { salt: 12_400 + index * 10 }), public: true }]),
  ),
});
/** Two private accounts the operator's login follows, and a public one, each listed by its secUid too. */
const HIDDEN = makeProfile("hidden.friend", makePosts(9, { salt: 12_500 }), {
  private: true,
  visibleToLogin: true,
});
const HIDDEN_TOO = makeProfile("hidden.other", makePosts(4, { salt: 12_600 }), {
  private: true,
  visibleToLogin: true,
});
const OPEN = makeProfile("open.secuid", makePosts(7, { salt: 12_700 }));
/** A followers-only stories tab: listed only with the operator's login, which follows the account. */
const TELLER = makeProfile("login.teller", [], {
  tabs: { stories: { posts: makePosts(3, { salt: 12_800 }) } },
});

const marked = { authorization: `Api-Key ${LOGIN_KEYS.marked}` };
const plain = { authorization: `Api-Key ${LOGIN_KEYS.plain}` };
/** A tab's post ids in the order TikTok lists them: stories oldest first, the others as kept. */
const inOrder = (profile: typeof ALICE, tab: (typeof TABS)[number]) =>
  [...(profile.tabs?.[tab]?.posts ?? [])]
    .sort((a, b) => (tab === "stories" ? a.createTime - b.createTime : 0))
    .map((post) => post.id);
const ids = (page: Page) => page.items.map((item: Page) => item.id as string);
const bySecUid = (secUid: string) => `https://www.tiktok.com/@${secUid}`;

for (const mode of ["memory", "redis"] as const) {
  describe(`lists keyed by their owner and by the operator's login (${mode})`, {
    skip: mode === "redis" && !redisUp ? `no Redis at ${REDIS_URL}` : false,
  }, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStackWithOperatorLogin(
        mode === "redis" ? { REDIS_URL, REDIS_PREFIX: `test-owners-${randomUUID()}:` } : {},
      );
      for (const profile of [ALICE, BOB, HIDDEN, HIDDEN_TOO, OPEN, TELLER]) {
        stack.fake.profiles.set(profile.username, profile);
        stack.fake.servePosts(profile.posts, profile);
      }
      // The operator's login follows the teller, whose stories are for followers.
      stack.fake.logins.set(OPERATOR_SESSION, stack.fake.following.viewer.username);
      stack.fake.following.accounts.push(TELLER.username);
    });
    after(() => stack.close());

    it("each owner's tab of each kind is that owner's, one after the other, and a cursor opens only its own", async () => {
      for (const tab of TABS) {
        const first = await list(stack, { url: `https://www.tiktok.com/@alice.tabs/${tab}`, limit: "3" });
        const second = await list(stack, { url: `https://www.tiktok.com/@bob.tabs/${tab}`, limit: "3" });
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.equal(second.status, 200, JSON.stringify(second.body));
        assert.deepEqual(ids(first.body.result), inOrder(ALICE, tab).slice(0, 3));
        assert.deepEqual(ids(second.body.result), inOrder(BOB, tab).slice(0, 3));
        assert.equal(second.body.result.cached, false, `@bob.tabs/${tab} was not answered from @alice.tabs'`);
        const again = await list(stack, { url: `https://www.tiktok.com/@BOB.tabs/${tab}`, limit: "3" });
        assert.deepEqual(
          ids(again.body.result),
          ids(second.body.result),
          "a handle in another case is the same owner",
        );
        const crossed = await list(stack, {
          url: `https://www.tiktok.com/@bob.tabs/${tab}`,
          limit: "3",
          cursor: first.body.result.cursor,
        });
        assert.deepEqual([crossed.status, crossed.body.code], [400, "INVALID_PARAMETER"], tab);
      }
    });

    it("a private account named by its secUid: 403 to anonymous and unmarked keys, its posts to a marked key, nothing cached", async () => {
      const url = bySecUid(HIDDEN.secUid);
      for (const headers of [{}, plain]) {
        const refused = await list(stack, { url, limit: "5" }, headers);
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
      }
      const mine = await list(stack, { url, limit: "5" }, marked);
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      assert.deepEqual(
        ids(mine.body.result),
        HIDDEN.posts.slice(0, 5).map((post) => post.id),
      );
      for (const headers of [{}, plain]) {
        const later = await list(stack, { url, limit: "5" }, headers);
        assert.equal(later.status, 403, "nothing of it was cached for others");
      }
      const feed = await stack.app.inject({ url: "/api/feed", query: { url } });
      assert.equal(feed.statusCode, 403, "nor its feed");
      const myFeed = await stack.app.inject({ url: "/api/feed", query: { url }, headers: marked });
      assert.equal(myFeed.statusCode, 200, myFeed.body);
      assert.match(String(myFeed.headers["cache-control"]), /\bprivate\b|no-store/);
      assert.doesNotMatch(String(myFeed.headers["cache-control"]), /\bpublic\b/);
    });

    it("a cursor of a page the login served is refused to anyone else before any request", async () => {
      const url = bySecUid(HIDDEN_TOO.secUid);
      const mine = await list(stack, { url, limit: "2" }, marked);
      assert.equal(mine.status, 200, JSON.stringify(mine.body));
      const cursor = mine.body.result.cursor as string;
      assert.ok(cursor);
      const before = stack.fake.requests.length;
      for (const headers of [{}, plain]) {
        const borrowed = await list(stack, { url, limit: "2", cursor }, headers);
        assert.equal(borrowed.status, 403, JSON.stringify(borrowed.body));
      }
      assert.equal(stack.fake.requests.length, before, "no upstream request for a borrowed cursor");
      const next = await list(stack, { url, limit: "2", cursor }, marked);
      assert.deepEqual(
        ids(next.body.result),
        HIDDEN_TOO.posts.slice(2, 4).map((post) => post.id),
      );
    });

    it("a public account named by its secUid is listed without the login and shared", async () => {
      const before = stack.fake.requests.length;
      const anonymous = await listPages(stack, bySecUid(OPEN.secUid), 5);
      assert.deepEqual(
        anonymous.flatMap(ids),
        OPEN.posts.map((post) => post.id),
      );
      const sent = stack.fake.requests.slice(before).filter((request) => request.path.startsWith("/api/"));
      assert.ok(sent.length > 0);
      for (const request of sent)
        assert.doesNotMatch(String(request.headers.cookie ?? ""), /sessionid/, "no login on a public list");
      const viaKey = await list(stack, { url: bySecUid(OPEN.secUid), limit: "5" }, marked);
      assert.equal(viaKey.body.result.cached, true, "the anonymous page serves every client");
    });

    it("collections and playlists are never asked with the operator's login, even for a marked key", async () => {
      const before = stack.fake.requests.length;
      for (const url of [
        "https://www.tiktok.com/@grid.maker/collection/Best%20bits-7300000000000000001",
        "https://www.tiktok.com/@grid.maker/playlist/Lake%20series-7300000000000000002",
      ]) {
        const page = await list(stack, { url, limit: "5" }, marked);
        assert.equal(page.status, 200, JSON.stringify(page.body));
      }
      const sent = stack.fake.requests
        .slice(before)
        .filter((request) => /^\/api\/(collection|mix)\//.test(request.path));
      assert.equal(sent.length, 2);
      for (const request of sent) assert.doesNotMatch(String(request.headers.cookie ?? ""), /sessionid/);
    });

    it("a secUid is case-sensitive: another spelling is not answered from, nor cached for, the real one", async () => {
      const flipped =
        OPEN.secUid.slice(0, 12) +
        [...OPEN.secUid.slice(12)]
          .map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()))
          .join("");
      assert.notEqual(flipped, OPEN.secUid);
      const other = await list(stack, { url: bySecUid(flipped), limit: "4" });
      assert.ok(other.status !== 200 || other.body.result.items.length === 0, JSON.stringify(other.body));
      const real = await list(stack, { url: bySecUid(OPEN.secUid), limit: "4", nocache: "true" });
      assert.deepEqual(
        ids(real.body.result),
        OPEN.posts.slice(0, 4).map((post) => post.id),
      );
      const otherAgain = await list(stack, { url: bySecUid(flipped), limit: "4" });
      assert.ok(otherAgain.status !== 200 || otherAgain.body.result.items.length === 0);
    });

    it("a private account's post that TikTok shows because of the login goes to a marked key only, its links marked", async () => {
      const post = HIDDEN.posts[0];
      assert.ok(post);
      const url = `https://www.tiktok.com/@hidden.friend/video/${post.id}`;
      for (const headers of [{}, plain]) {
        const refused = await stack.app.inject({
          url: "/api/download",
          query: { url, type: "native" },
          headers,
        });
        assert.equal(refused.statusCode, 403, refused.body);
      }
      const mine = await stack.app.inject({
        url: "/api/download",
        query: { url, type: "native" },
        headers: marked,
      });
      assert.equal(mine.statusCode, 200, mine.body);
      const video = String(mine.json().result.stream.video);
      assert.match(video, /\.L\.[\w-]{22}$/, "its tunnel link carries the login's mark");
      assert.equal((await stack.app.inject({ url: video })).statusCode, 200);
      const later = await download(stack.app, { url, type: "native" });
      assert.equal(later.status, 403, "nothing of it was cached for others");
    });

    it("a story listed with the login: its files come through the tunnel for the marked key", async () => {
      const listed = await list(stack, { url: "https://www.tiktok.com/@login.teller/stories" }, marked);
      assert.equal(listed.status, 200, JSON.stringify(listed.body));
      const story = TELLER.tabs?.stories?.posts[0];
      assert.ok(story);
      const url = `https://www.tiktok.com/@login.teller/video/${story.id}`;
      const answer = await stack.app.inject({
        url: "/api/download",
        query: { url, type: "native" },
        headers: marked,
      });
      assert.equal(answer.statusCode, 200, answer.body);
      const result = answer.json().result;
      for (const link of [result.stream.video, result.stream.thumb, result.stream.video]) {
        const file = await stack.app.inject({ url: link });
        assert.equal(file.statusCode, 200, `${link}: ${file.body.slice(0, 200)}`);
      }
      const anonymous = await download(stack.app, { url, type: "native" });
      assert.equal(anonymous.status, 404, "the story is still not anyone's");
      const forged = String(result.stream.video).replace(/\.L\./, ".");
      const refused = await stack.app.inject({ url: forged });
      assert.equal(refused.statusCode, 403, "the login mark is under the signature");
    });
  });
}
