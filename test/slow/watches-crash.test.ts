import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type FakeProfile, makePosts, makeProfile, postIdAt } from "../fakes/profiles.js";
import { FakeWebhookReceiver } from "../fakes/receivers.js";
import { FakeTikTok } from "../fakes/tiktok.js";
import { delay, type Stack } from "../helpers.js";
import { redisAnswers } from "../support/redis-server.js";
import { startServer } from "../support/server-process.js";
import { startWatchStack, watchCreator } from "../support/watches.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const redisUp = await redisAnswers(REDIS_URL);

/** The server as its own process, so that it can be killed with SIGKILL; resolves once it listens. */
async function startListening(env: Record<string, string>) {
  const { child, listening } = startServer(env);
  return { child, base: await listening };
}

function addPost(profile: FakeProfile, salt: number) {
  const time = Math.floor(Date.now() / 1000);
  const post = { id: postIdAt(time, salt), createTime: time, photo: false };
  profile.posts.unshift(post);
  return post.id;
}

/** Every post delivered (answered 200), and each post's attempts under one webhook-id. */
function delivered(receiver: FakeWebhookReceiver, posts: string[]) {
  const byPost = new Map<string, Set<string>>();
  for (const entry of receiver.events("post.created"))
    byPost.set(
      entry.json.data.post.id,
      new Set([...(byPost.get(entry.json.data.post.id) ?? []), String(entry.headers["webhook-id"])]),
    );
  return { all: posts.every((id) => byPost.has(id)), ids: byPost };
}

async function crashAndRestart(mode: "sqlite" | "redis", env: Record<string, string>) {
  const fake = await new FakeTikTok({ waf: false }).start();
  const creator = makeProfile(`crash.${mode}`, makePosts(3, { salt: 14_000 }));
  fake.profiles.set(creator.username, creator);
  const receiver = await new FakeWebhookReceiver().start();
  const settings = {
    ...env,
    UPSTREAM_TIKTOK: fake.url,
    ALLOW_PRIVATE_UPSTREAMS: "1",
    ALLOW_PRIVATE_TARGETS: "1",
    WATCH_MIN_INTERVAL: "1",
    WATCH_RETRY_DELAYS: Array(20).fill("1").join(","),
  };
  let server = await startListening(settings);
  try {
    const made = await fetch(`${server.base}/api/watches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        url: `https://www.tiktok.com/@${creator.username}`,
        target: { type: "webhook", url: `${receiver.url}/hook` },
        every: 1,
      }),
    });
    assert.equal(made.status, 201, await made.clone().text());
    receiver.secrets.push(((await made.json()) as { result: { secret: string } }).result.secret);
    // The receiver is down for a while: the deliveries stay pending, retried every second.
    receiver.script.push(...Array(40).fill(503));
    const posts = [addPost(creator, 1), addPost(creator, 2)];
    const end = Date.now() + 10_000;
    while (receiver.received.length < 2 && Date.now() < end) await delay(50);
    assert.ok(receiver.received.length >= 2, "the deliveries were attempted before the crash");
    // A check in flight at the kill: the list answers slowly, and a post is there to be found.
    creator.listDelayMs = 1_500;
    posts.push(addPost(creator, 3));
    await delay(1_200);
    server.child.kill("SIGKILL");
    await once(server.child, "exit");
    posts.push(addPost(creator, 4));
    creator.listDelayMs = 0;
    receiver.script.splice(0, receiver.script.length);
    server = await startListening(settings);
    const done = Date.now() + 20_000;
    while (!delivered(receiver, posts).all && Date.now() < done) await delay(100);
    const { all, ids } = delivered(receiver, posts);
    assert.ok(all, `every post delivered after the restart (${[...ids.keys()].length} of ${posts.length})`);
    for (const [post, webhookIds] of ids)
      assert.equal(webhookIds.size, 1, `post ${post} kept its webhook-id`);
  } finally {
    server.child.kill("SIGKILL");
    await fake.close();
    await receiver.close();
  }
}

describe("watches survive a crash (kill -9) and a restart", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("with the embedded database (SQLite)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-crash-"));
    dirs.push(dir);
    await crashAndRestart("sqlite", { DATA_DIR: dir });
  });

  it("with Redis", { skip: redisUp ? false : `no Redis at ${REDIS_URL}` }, async () => {
    const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
    try {
      await crashAndRestart("redis", { REDIS_URL, REDIS_PREFIX: prefix });
    } finally {
      const redis = new Redis(REDIS_URL);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});

describe("a receiver that never answers", () => {
  let stack: Stack;
  after(async () => {
    await stack?.close();
  });

  it("is given up on after 10 s and tried again", async () => {
    const receiver = await new FakeWebhookReceiver().start();
    stack = await startWatchStack({ ALLOW_PRIVATE_TARGETS: "1", WATCH_RETRY_DELAYS: "0,0" });
    try {
      stack.fake.profiles.set("hang.creator", makeProfile("hang.creator", makePosts(2, { salt: 14_100 })));
      const watch = await watchCreator(stack, "hang.creator", receiver, "/hang");
      receiver.script.push("hang");
      assert.equal(
        (await stack.app.inject({ method: "POST", url: `/api/watches/${watch.id}/test` })).statusCode,
        202,
      );
      const started = Date.now();
      while (receiver.received.length < 2 && Date.now() - started < 20_000) await delay(100);
      assert.equal(receiver.received.length, 2, "tried again after the timeout");
      assert.ok(Date.now() - started >= 9_500, "after about 10 s");
      const deliveries = (await stack.app.inject({ url: `/api/watches/${watch.id}/deliveries` })).json()
        .result;
      assert.equal(deliveries[0].status, "delivered");
      assert.equal(deliveries[0].attempts, 2);
    } finally {
      await receiver.close();
    }
  });
});
