import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, type Stack, scriptedSource, startStack, videoFrom } from "./helpers.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const SECRET = "scale-out-test-secret-0123456789";
const link = (id: string, user = "river.cooks") => `https://www.tiktok.com/@${user}/video/${id}`;

const available = await redisAnswers(REDIS_URL);
if (!available) console.warn(`\n!!! No Redis at ${REDIS_URL}: the scale-out tests are SKIPPED.\n`);

async function removeKeys(prefix: string) {
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
}

describe("the near tier in front of Redis", { skip: available ? false : `no Redis at ${REDIS_URL}` }, () => {
  const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  const versioned = scriptedSource("versioned", (input, call) => ({
    ...videoFrom("versioned")(input),
    caption: `version ${call}`,
  }));
  let clockB = 0;
  let a: Stack;
  let b: Stack;

  before(async () => {
    const env = { REDIS_URL, REDIS_PREFIX: prefix, CACHE_LOCAL_TTL: "2" };
    a = await startStack({ env, deps: { sources: [versioned.descriptor] } });
    b = await startStack({ env, deps: { sources: [versioned.descriptor], now: () => Date.now() + clockB } });
  });
  after(async () => {
    await a.close();
    await b.close();
    await removeKeys(prefix);
  });

  it("serves another instance's refresh once its near copy has aged out (CACHE_LOCAL_TTL)", async () => {
    const url = link(SAMPLE_IDS.video);
    assert.equal((await download(a.app, { url })).body.result.caption, "version 1");
    const fromRedis = await download(b.app, { url });
    assert.equal(fromRedis.body.result.caption, "version 1");
    assert.equal(fromRedis.body.result.cached, true);

    const refreshed = await download(a.app, { url, nocache: "1" });
    assert.equal(refreshed.body.result.caption, "version 2");
    assert.equal(
      (await download(a.app, { url })).body.result.caption,
      "version 2",
      "A's near copy is the new one",
    );

    const near = await download(b.app, { url });
    assert.equal(near.body.result.caption, "version 1", "B still serves its near copy");
    clockB = 2_100;
    const aged = await download(b.app, { url });
    assert.equal(aged.body.result.caption, "version 2", "then reads Redis again");
    assert.equal(versioned.calls, 2);
  });
});

describe("tunnel links across instances and evictions", () => {
  let fake: FakeTikTok;
  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
  });
  after(() => fake.close());

  it("a link made by one instance works on another sharing STREAM_SECRET and Redis, with no new extraction", {
    skip: available ? false : `no Redis at ${REDIS_URL}`,
  }, async () => {
    const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
    const env = { REDIS_URL, REDIS_PREFIX: prefix, STREAM_SECRET: SECRET, ALLOW_PRIVATE_UPSTREAMS: "1" };
    const first = await startStack({ env, sharedFake: fake });
    const second = await startStack({ env, sharedFake: fake });
    try {
      const { body } = await download(first.app, { url: link(SAMPLE_IDS.video) });
      const pages = fake.pageRequests(SAMPLE_IDS.video);
      const file = await second.app.inject({ url: body.result.stream.video });
      assert.equal(file.statusCode, 200, file.body.slice(0, 200));
      assert.equal(file.headers["content-type"], "video/mp4");
      assert.equal(file.rawPayload.length, 1_048_576);
      assert.match(
        String(file.headers["content-disposition"]),
        /tiktok_river\.cooks_7558765792041131240\.mp4/,
      );
      assert.equal(fake.pageRequests(SAMPLE_IDS.video), pages, "the second instance read the shared cache");
    } finally {
      await first.close();
      await second.close();
      await removeKeys(prefix);
    }
  });

  it("a link whose post has left the cache extracts the post again instead of failing", async () => {
    const stack = await startStack({
      sharedFake: fake,
      env: { CACHE_MAX_ENTRIES: "1", STREAM_SECRET: SECRET, ALLOW_PRIVATE_UPSTREAMS: "1" },
    });
    try {
      const { body } = await download(stack.app, { url: link(SAMPLE_IDS.video) });
      await download(stack.app, { url: link(SAMPLE_IDS.photo, "trail.notes") });
      const pages = fake.pageRequests(SAMPLE_IDS.video);
      const file = await stack.app.inject({ url: body.result.stream.music });
      assert.equal(file.statusCode, 200, file.body.slice(0, 200));
      assert.equal(file.headers["content-type"], "audio/mpeg");
      assert.equal(fake.pageRequests(SAMPLE_IDS.video), pages + 1);
    } finally {
      await stack.close();
    }
  });

  it("links are short, name no address or cookie, and an edited file name or post is refused", async () => {
    const stack = await startStack({ sharedFake: fake, env: { STREAM_SECRET: SECRET } });
    try {
      const { body } = await download(stack.app, { url: link(SAMPLE_IDS.video) });
      const video: string = body.result.stream.video;
      assert.ok(video.length < 120, video);
      assert.doesNotMatch(video, /tiktok\.com|chain|cookie/i);
      for (const edited of [
        video.replace("/video.", "/hd."),
        video.replace(SAMPLE_IDS.video, SAMPLE_IDS.photo),
      ]) {
        const response = await stack.app.inject({ url: edited });
        assert.equal(response.statusCode, 403);
        assert.equal(response.json().code, "STREAM_INVALID");
      }
    } finally {
      await stack.close();
    }
  });
});

describe("list pages shared across instances", {
  skip: available ? false : `no Redis at ${REDIS_URL}`,
}, () => {
  const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  let fake: FakeTikTok;
  let a: Stack;
  let b: Stack;

  before(async () => {
    fake = await new FakeTikTok({ waf: false }).start();
    const env = { REDIS_URL, REDIS_PREFIX: prefix, STREAM_SECRET: SECRET, ALLOW_PRIVATE_UPSTREAMS: "1" };
    a = await startStack({ env, sharedFake: fake });
    b = await startStack({ env, sharedFake: fake });
  });
  after(async () => {
    await a.close();
    await b.close();
    await fake.close();
    await removeKeys(prefix);
  });

  it("two instances asking for the same page at once make one listing; the cursor of one works on the other", async () => {
    const query = { url: "https://www.tiktok.com/@grid.maker", limit: "20" };
    const [first, second] = await Promise.all(
      [a, b].map(
        async (stack) => (await stack.app.inject({ url: "/api/list", query })).json() as Record<string, any>,
      ),
    );
    assert.deepEqual(first?.result.items, second?.result.items);
    assert.equal(
      fake.count((request) => request.path === "/@grid.maker"),
      1,
      "one profile page for both",
    );
    const next = await b.app.inject({ url: "/api/list", query: { ...query, cursor: first?.result.cursor } });
    assert.equal(next.statusCode, 200, next.body);
    assert.equal((next.json() as Record<string, any>).result.items.length, 20);
  });
});
