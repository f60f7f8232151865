import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { FakeTikTok, SAMPLE_IDS } from "./fakes/tiktok.js";
import { download, type Stack, startStack } from "./helpers.js";
import { hasRedisServer } from "./support/redis-server.js";
import { OwnCluster, OwnSentinel } from "./support/redis-topologies.js";

const SECRET = "topology-test-secret-0123456789ab";
const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const PHOTO = `https://www.tiktok.com/@trail.notes/photo/${SAMPLE_IDS.photo}`;

const topologies: {
  name: string;
  start(): Promise<{ env: Record<string, string>; stop(): Promise<void> }>;
}[] = [
  {
    name: "a Redis Cluster of three masters (REDIS_CLUSTER_NODES)",
    async start() {
      const cluster = await OwnCluster.start();
      return { env: { REDIS_CLUSTER_NODES: cluster.nodes }, stop: () => cluster.stop() };
    },
  },
  {
    name: "a master found through Sentinel (REDIS_SENTINELS)",
    async start() {
      const sentinel = await OwnSentinel.start();
      return {
        env: { REDIS_SENTINELS: sentinel.sentinels, REDIS_SENTINEL_NAME: "mymaster" },
        stop: () => sentinel.stop(),
      };
    },
  },
];

for (const topology of topologies)
  describe(`scale-out on ${topology.name}`, {
    skip: hasRedisServer ? false : "no redis-server installed",
  }, () => {
    let redis: Awaited<ReturnType<(typeof topology)["start"]>>;
    let fake: FakeTikTok;
    let a: Stack;
    let b: Stack;

    before(async () => {
      redis = await topology.start();
      fake = await new FakeTikTok({ waf: false }).start();
      const env = {
        ...redis.env,
        REDIS_PREFIX: `tiktok-dl-test:${randomBytes(4).toString("hex")}:`,
        STREAM_SECRET: SECRET,
        ALLOW_PRIVATE_UPSTREAMS: "1",
        RATE_LIMIT: "4",
        // The near tier would hide what Redis holds: every read goes to Redis here.
        CACHE_LOCAL_TTL: "0",
      };
      a = await startStack({ env, sharedFake: fake });
      b = await startStack({ env, sharedFake: fake });
    });
    after(async () => {
      await a?.close();
      await b?.close();
      await fake?.close();
      await redis?.stop();
    });

    it("one extraction for two instances; links, stored links and health shared", async () => {
      const [first, second] = await Promise.all([
        download(a.app, { url: VIDEO }),
        download(b.app, { url: VIDEO }),
      ]);
      assert.equal(first.status, 200, JSON.stringify(first.body));
      assert.equal(second.status, 200, JSON.stringify(second.body));
      assert.equal(fake.pageRequests(SAMPLE_IDS.video), 1, "one instance extracted, the other waited");
      const file = await b.app.inject({ url: first.body.result.stream.video });
      assert.equal(file.statusCode, 200, "a link made on A works on B");
      const stored = (await b.app.inject({ url: "/api/stored-links" })).json() as string[];
      assert.ok(
        stored.some((link) => link.endsWith(SAMPLE_IDS.video)),
        JSON.stringify(stored),
      );
      for (const stack of [a, b]) {
        const health = (await stack.app.inject({ url: "/api/health" })).json() as Record<string, any>;
        assert.equal(health.status, "ok");
        assert.deepEqual(health.store, { kind: "redis", up: true });
      }
    });

    it("one rate limit across instances", async () => {
      // Two downloads were spent above (one on each instance).
      assert.equal((await download(a.app, { url: PHOTO })).status, 200);
      assert.equal((await download(b.app, { url: PHOTO })).status, 200);
      const over = await download(a.app, { url: PHOTO });
      assert.equal(over.status, 429, JSON.stringify(over.body));
    });
  });

describe("a Redis Cluster that loses a master", {
  skip: hasRedisServer ? false : "no redis-server installed",
}, () => {
  it("goes on answering without waiting on the missing slots", async () => {
    const cluster = await OwnCluster.start();
    const fake = await new FakeTikTok({ waf: false }).start();
    const stack = await startStack({
      env: {
        REDIS_CLUSTER_NODES: cluster.nodes,
        REDIS_PREFIX: "tiktok-dl-test:loss:",
        ALLOW_PRIVATE_UPSTREAMS: "1",
      },
      sharedFake: fake,
    });
    try {
      assert.equal((await download(stack.app, { url: VIDEO })).status, 200);
      await cluster.killMaster(0);
      for (const url of [VIDEO, PHOTO, VIDEO]) {
        const started = Date.now();
        const answer = await download(stack.app, { url, nocache: "1" });
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.ok(Date.now() - started < 3_000, `answered in ${Date.now() - started} ms`);
      }
    } finally {
      await stack.close();
      await fake.close();
      await cluster.stop();
    }
  });
});
