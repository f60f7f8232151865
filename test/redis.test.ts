import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { makePosts, makeProfile } from "./fakes/profiles.js";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { delay, download, type Stack, scriptedSource, startStack, videoFrom } from "./helpers.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const link = (id: string) => `https://www.tiktok.com/@river.cooks/video/${id}`;

const available = await redisAnswers(REDIS_URL);
if (!available) {
  console.warn(
    `\n!!! No Redis at ${REDIS_URL}: the Redis cache, shared index and shared rate-limit tests are SKIPPED.\n` +
      "!!! Start redis-server (or set REDIS_URL) to run them; CI always does.\n",
  );
}

describe("several instances sharing one Redis", {
  skip: available ? false : `no Redis at ${REDIS_URL}`,
}, () => {
  const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  let redis: Redis;
  let fake: FakeTikTok;
  let first: Stack;
  let second: Stack;

  before(async () => {
    redis = new Redis(REDIS_URL);
    fake = await new FakeTikTok({ waf: false }).start();
    const env = { REDIS_URL, REDIS_PREFIX: prefix, RATE_LIMIT: "5" };
    first = await startStack({ env, sharedFake: fake });
    second = await startStack({ env, sharedFake: fake });
  });

  after(async () => {
    await first?.close();
    await second?.close();
    await fake?.close();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 200);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    assert.equal((await redis.keys(`${prefix}*`)).length, 0);
    redis.disconnect();
  });

  const hit = (stack: Stack, url: string, remoteAddress = "192.0.2.10") =>
    stack.app.inject({ method: "GET", url: "/api/download", query: { url }, remoteAddress });

  it("answers from the cache another instance filled, with no new TikTok request", async () => {
    const fresh = await hit(first, link(SAMPLE_IDS.video), "192.0.2.1");
    assert.equal(fresh.statusCode, 200);
    assert.equal(fresh.json().result.cached, false);
    const pages = fake.pageRequests(SAMPLE_IDS.video);
    const cached = await hit(second, `https://m.tiktok.com/v/${SAMPLE_IDS.video}.html`, "192.0.2.1");
    assert.equal(cached.statusCode, 200);
    assert.equal(cached.json().result.cached, true);
    assert.deepEqual(cached.json().result.urls, fresh.json().result.urls);
    assert.equal(fake.pageRequests(SAMPLE_IDS.video), pages);
  });

  it("keeps entries under the prefix with a TTL no longer than CACHE_TTL", async () => {
    const ttl = await redis.pttl(`${prefix}post:tiktok:${SAMPLE_IDS.video}`);
    assert.ok(ttl > 0 && ttl <= 3600_000, `ttl ${ttl}`);
  });

  it("shares the stored-links index, newest first, and drops links whose entry is gone", async () => {
    await hit(second, `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`, "192.0.2.2");
    const links = (await first.app.inject({ url: "/api/stored-links" })).json() as string[];
    assert.deepEqual(links, [
      `https://www.tiktok.com/@trail.notes/video/${SAMPLE_IDS.photo}`,
      link(SAMPLE_IDS.video),
    ]);
    await redis.del(`${prefix}post:tiktok:${SAMPLE_IDS.photo}`);
    const after = (await second.app.inject({ url: "/api/stored-links" })).json() as string[];
    assert.deepEqual(after, [link(SAMPLE_IDS.video)]);
    assert.equal(await redis.zcard(`${prefix}links`), 1);
  });

  it("shares TikTok's verdicts and resolved short links", async () => {
    assert.equal((await hit(first, link(SAMPLE_IDS.deleted), "192.0.2.3")).statusCode, 404);
    const pages = fake.pageRequests(SAMPLE_IDS.deleted);
    assert.equal((await hit(second, link(SAMPLE_IDS.deleted), "192.0.2.3")).statusCode, 404);
    assert.equal(fake.pageRequests(SAMPLE_IDS.deleted), pages);

    assert.equal((await hit(first, "https://vm.tiktok.com/ZMriver01/", "192.0.2.4")).statusCode, 200);
    const resolved = fake.count((request) => request.path.startsWith("/ZMriver01"));
    assert.equal((await hit(second, "https://vm.tiktok.com/ZMriver01/", "192.0.2.4")).statusCode, 200);
    assert.equal(
      fake.count((request) => request.path.startsWith("/ZMriver01")),
      resolved,
    );
  });

  it("counts one client's requests across instances", async () => {
    const client = "198.51.100.77";
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await hit(i % 2 ? second : first, link(SAMPLE_IDS.video), client)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const elsewhere = await hit(first, link(SAMPLE_IDS.video), client);
    assert.equal(elsewhere.statusCode, 429);
    assert.ok(Number(elsewhere.headers["retry-after"]) > 0);
    assert.ok((await redis.keys(`${prefix}rate:*`)).length > 0);
  });

  it("a story listed on one instance is downloaded on another from its list item", async () => {
    const teller = makeProfile("story.sharer", [], {
      tabs: { stories: { posts: makePosts(2, { salt: 9650 }), public: true } },
    });
    fake.profiles.set(teller.username, teller);
    const story = teller.tabs?.stories?.posts[0];
    assert.ok(story && !story.photo);
    const listed = await first.app.inject({
      url: "/api/list",
      query: { url: "https://www.tiktok.com/@story.sharer/stories", limit: "5" },
      remoteAddress: "192.0.2.20",
    });
    assert.equal(listed.statusCode, 200, listed.body);
    const url = `https://www.tiktok.com/@story.sharer/video/${story.id}`;
    const elsewhere = await second.app.inject({
      url: "/api/download",
      query: { url, type: "native", nocache: "true" },
      remoteAddress: "192.0.2.21",
    });
    assert.equal(elsewhere.statusCode, 200, elsewhere.body);
    assert.equal(elsewhere.json().result.id, story.id);
    assert.equal((await redis.keys(`${prefix}story:tiktok:*`)).length, 2);
  });

  it("reports the Redis store in /api/health", async () => {
    const health = await first.app.inject({ url: "/api/health" });
    assert.equal(health.statusCode, 200);
    assert.equal(health.json().status, "ok");
    assert.deepEqual(health.json().store, { kind: "redis", up: true });
  });
});

describe("when Redis goes away", () => {
  it("keeps answering from the sources and says so in /api/health", async () => {
    const stack = await startStack({
      env: { REDIS_URL: "redis://127.0.0.1:1", RATE_LIMIT: "5" },
      fake: { waf: false },
    });
    try {
      const started = Date.now();
      const { status, body } = await download(stack.app, { url: link(SAMPLE_IDS.video) });
      assert.equal(status, 200, JSON.stringify(body));
      assert.ok(Date.now() - started < 10_000);
      // Degraded, not unready: the instance serves without Redis, so it stays in its load balancer.
      const health = await stack.app.inject({ url: "/api/health" });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().status, "degraded");
      assert.deepEqual(health.json().store, { kind: "redis", up: false });
    } finally {
      await stack.close();
    }
  });
});

describe("one extraction across instances", { skip: available ? false : `no Redis at ${REDIS_URL}` }, () => {
  it("an instance waits for the extraction another one is running, instead of repeating it", async () => {
    const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
    const slow = scriptedSource("slow", async (input) => {
      await delay(300);
      return videoFrom("slow")(input);
    });
    const env = { REDIS_URL, REDIS_PREFIX: prefix };
    const first = await startStack({ env, deps: { sources: [slow.descriptor] } });
    const second = await startStack({ env, deps: { sources: [slow.descriptor] } });
    const redis = new Redis(REDIS_URL);
    try {
      const url = link(SAMPLE_IDS.video);
      const answers = await Promise.all([
        download(first.app, { url }),
        download(second.app, { url }),
        download(second.app, { url, nocache: "1" }),
      ]);
      assert.deepEqual(
        answers.map((answer) => answer.status),
        [200, 200, 200],
      );
      assert.equal(slow.calls, 1);
      assert.equal((await redis.keys(`${prefix}flight:*`)).length, 0, "the claim is given back");
    } finally {
      await first.close();
      await second.close();
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
