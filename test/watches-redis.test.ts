import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { makePosts, makeProfile, postIdAt } from "./fakes/profiles.js";
import { FakeWebhookReceiver } from "./fakes/receivers.js";
import { FakeTikTok } from "./fakes/tiktok.js";
import { delay, type Stack, startStack } from "./helpers.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const available = await redisAnswers(REDIS_URL);

describe("watches on two instances sharing one Redis", {
  skip: available ? false : `no Redis at ${REDIS_URL}`,
}, () => {
  const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  let redis: Redis;
  let fake: FakeTikTok;
  let receiver: FakeWebhookReceiver;
  let instances: Stack[] = [];
  const creator = makeProfile("watch.shared", makePosts(4, { salt: 13_000 }));
  const other = makeProfile("watch.other", makePosts(2, { salt: 13_100 }));

  before(async () => {
    redis = new Redis(REDIS_URL);
    fake = await new FakeTikTok({ waf: false }).start();
    fake.profiles.set(creator.username, creator);
    fake.profiles.set(other.username, other);
    receiver = await new FakeWebhookReceiver().start();
    const env = {
      REDIS_URL,
      REDIS_PREFIX: prefix,
      ALLOW_PRIVATE_UPSTREAMS: "1",
      ALLOW_PRIVATE_TARGETS: "1",
      WATCH_MIN_INTERVAL: "1",
      WATCH_RETRY_DELAYS: "0,0",
    };
    instances = [await startStack({ env, sharedFake: fake }), await startStack({ env, sharedFake: fake })];
  });
  after(async () => {
    for (const instance of instances) await instance.close();
    await fake.close();
    await receiver.close();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    redis.disconnect();
  });

  it("checks a list once per interval for all its watches, and delivers each event once", async () => {
    const watches: string[] = [];
    for (let i = 0; i < 20; i++) {
      const instance = instances[i % 2] as Stack;
      const made = await instance.app.inject({
        method: "POST",
        url: "/api/watches",
        payload: {
          url: `https://www.tiktok.com/@${i % 5 === 4 ? other.username : creator.username}`,
          target: { type: "webhook", url: `${receiver.url}/hook/${i}` },
          every: 1,
        },
      });
      assert.equal(made.statusCode, 201, made.body);
      receiver.secrets.push(made.json().result.secret);
      watches.push(made.json().result.id);
    }
    const pagesBefore = fake.listedPages.filter((page) => page.username === creator.username).length;
    const started = Date.now();
    await delay(4_000);
    const seconds = (Date.now() - started) / 1000;
    const pages = fake.listedPages.filter((page) => page.username === creator.username).length - pagesBefore;
    // Sixteen watches of one creator, each due every second: about one list request a second between them.
    assert.ok(pages <= Math.ceil(seconds) + 2, `${pages} list requests in ${seconds.toFixed(1)} s`);
    assert.ok(pages >= 1, "the list was checked");

    const time = Math.floor(Date.now() / 1000);
    creator.posts.unshift({ id: postIdAt(time, 77), createTime: time, photo: false });
    const expected = 16;
    const end = Date.now() + 10_000;
    while (receiver.events("post.created").length < expected && Date.now() < end) await delay(50);
    await delay(1_500);
    const events = receiver.events("post.created");
    assert.equal(events.length, expected, "one event per watch of that creator");
    assert.equal(new Set(events.map((event) => event.headers["webhook-id"])).size, expected, "none twice");
    assert.equal(new Set(events.map((event) => event.path)).size, expected, "one per watch");
  });
});
