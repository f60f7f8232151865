import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { SAMPLE_IDS } from "./fakes/tiktok.js";
import { delay, download, type Stack, startStack } from "./helpers.js";
import { hasRedisServer, OwnRedis } from "./support/redis-server.js";

const VIDEO = `https://www.tiktok.com/@river.cooks/video/${SAMPLE_IDS.video}`;
const PREFIX = "tiktok-dl-outage-test:";

/** Sends `count` fresh extractions one after another: each must succeed, and none may wait long. */
async function steady(stack: Stack, count: number) {
  let slowest = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const { status, body } = await download(stack.app, { url: VIDEO, nocache: "1" });
    slowest = Math.max(slowest, performance.now() - started);
    assert.equal(status, 200, JSON.stringify(body));
  }
  return slowest;
}

async function until(check: () => Promise<boolean>, timeoutMs: number) {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await delay(100);
  }
  throw new Error(`not within ${timeoutMs} ms`);
}

describe("a Redis that dies, pauses and comes back", {
  skip: hasRedisServer ? false : "no redis-server binary",
}, () => {
  let own: OwnRedis;
  let stack: Stack;
  let client: Redis;
  const logged: { level: number; msg: string }[] = [];

  const health = async () => {
    const started = performance.now();
    const response = await stack.app.inject({ url: "/api/health" });
    return { ms: performance.now() - started, status: response.statusCode, body: response.json() };
  };
  const storedInRedis = async () => (await client.exists(`${PREFIX}post:tiktok:${SAMPLE_IDS.video}`)) === 1;
  const messages = (pattern: RegExp) => logged.filter((line) => pattern.test(line.msg)).length;

  before(async () => {
    own = await OwnRedis.start();
    client = new Redis(own.url, { maxRetriesPerRequest: 0, retryStrategy: () => 200 });
    client.on("error", () => {});
    stack = await startStack({
      fake: { waf: false },
      env: { REDIS_URL: own.url, REDIS_PREFIX: PREFIX, RATE_LIMIT: "0" },
      deps: {
        logger: { level: "info" },
        logStream: { write: (line: string) => logged.push(JSON.parse(line)) },
      },
    });
  });
  after(async () => {
    await stack?.close();
    client?.disconnect();
    await own?.stop();
  });

  it("uses Redis while it answers", async () => {
    await steady(stack, 2);
    assert.ok(await storedInRedis());
    assert.equal((await health()).body.status, "ok");
  });

  it("killed: requests go on without it, none waits long, one warning, health degraded at once", async () => {
    await own.kill();
    const slowest = await steady(stack, 10);
    assert.ok(slowest < 1000, `the slowest request took ${slowest.toFixed(0)} ms`);
    const report = await health();
    assert.equal(report.status, 200);
    assert.equal(report.body.status, "degraded");
    assert.deepEqual(report.body.store, { kind: "redis", up: false });
    assert.ok(report.ms < 500, `health took ${report.ms.toFixed(0)} ms`);
    assert.equal(messages(/Redis does not answer/), 1);
  });

  it("restarted: the instance uses it again without a restart of its own", async () => {
    await own.start();
    await until(async () => (await health()).body.status === "ok", 8_000);
    await until(async () => {
      await steady(stack, 1);
      return storedInRedis();
    }, 5_000);
    assert.equal(messages(/Redis answers again/), 1);
  });

  it("paused (SIGSTOP): requests do not hang for the pause; it is used again after SIGCONT", async () => {
    own.pause();
    try {
      const slowest = await steady(stack, 10);
      assert.ok(slowest < 1000, `the slowest request took ${slowest.toFixed(0)} ms`);
      const report = await health();
      assert.equal(report.body.status, "degraded");
      assert.ok(report.ms < 500, `health took ${report.ms.toFixed(0)} ms`);
      assert.equal(messages(/Redis does not answer/), 2);
    } finally {
      own.resume();
    }
    await client.del(`${PREFIX}post:tiktok:${SAMPLE_IDS.video}`);
    await until(async () => (await health()).body.status === "ok", 5_000);
    // Claims sent while Redis slept ran when it woke: they are given back at once, so the next fresh
    // extractions neither wait on a claim nobody holds nor skip Redis.
    const slowest = await steady(stack, 3);
    assert.ok(slowest < 1000, `after the pause, the slowest request took ${slowest.toFixed(0)} ms`);
    assert.ok(await storedInRedis());
    assert.deepEqual(await client.keys(`${PREFIX}flight:*`), []);
  });
});

describe("rate limits while Redis is down", {
  skip: hasRedisServer ? false : "no redis-server binary",
}, () => {
  it("counts in memory instead of letting everything through", async () => {
    const own = await OwnRedis.start();
    const stack = await startStack({
      fake: { waf: false },
      env: { REDIS_URL: own.url, REDIS_PREFIX: PREFIX, RATE_LIMIT: "3" },
    });
    try {
      await own.kill();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await download(stack.app, { url: VIDEO })).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    } finally {
      await stack.close();
      await own.stop();
    }
  });

  it("names its keys <prefix>rate:<route>:<client> in Redis", async () => {
    const own = await OwnRedis.start();
    const client = new Redis(own.url);
    const stack = await startStack({
      fake: { waf: false },
      env: { REDIS_URL: own.url, REDIS_PREFIX: PREFIX, RATE_LIMIT: "3" },
    });
    try {
      await download(stack.app, { url: VIDEO });
      assert.deepEqual(await client.keys(`${PREFIX}rate:*`), [`${PREFIX}rate:download:127.0.0.1`]);
    } finally {
      await stack.close();
      client.disconnect();
      await own.stop();
    }
  });
});
