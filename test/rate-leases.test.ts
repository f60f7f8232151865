import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import pino from "pino";
import { createRateCounters, type RateCounters } from "../src/stores/rate-counters.js";
import { RESILIENT_REDIS_OPTIONS } from "../src/stores/redis-connect.js";
import { createRedisGuard } from "../src/stores/redis-guard.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const available = await redisAnswers(REDIS_URL);

const MINUTE = 60_000;

/**
 * Rate counters shared through Redis reserve a busy client's hits several at a time: the instances
 * together never admit past the limit, a busy client costs few round trips, and a slow one is counted
 * hit by hit.
 */
describe("shared rate counters with reservations", {
  skip: available ? false : `no Redis at ${REDIS_URL}`,
}, () => {
  const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
  const connections: Redis[] = [];
  let admin: Redis;

  /** One instance's counters over its own connection, and how many calls it made to Redis. */
  const instance = async () => {
    const redis = new Redis(REDIS_URL, RESILIENT_REDIS_OPTIONS);
    connections.push(redis);
    await once(redis, "ready");
    const guard = createRedisGuard({ redis, now: Date.now, log: pino({ level: "silent" }) });
    const calls = { count: 0 };
    const counted = {
      ...guard,
      run: <T>(work: () => Promise<T>) => {
        calls.count++;
        return guard.run(work);
      },
    };
    const counters = createRateCounters({ now: Date.now, prefix, redis, guard: counted });
    return { counters, calls };
  };
  const admitted = async (
    counters: RateCounters,
    key: string,
    hits: number,
    limit: number,
    windowMs = MINUTE,
  ) => {
    const counts = await Promise.all(
      Array.from({ length: hits }, () => counters.hit(key, windowMs, 1, limit)),
    );
    return counts.filter((count) => count.count <= limit).length;
  };

  before(() => {
    admin = new Redis(REDIS_URL);
  });
  after(async () => {
    const keys = await admin.keys(`${prefix}*`);
    if (keys.length > 0) await admin.del(...keys);
    admin.disconnect();
    for (const redis of connections) redis.disconnect();
  });

  it("answers a busy client's hits with a few round trips, each admitted hit holding a place in Redis", async () => {
    const { counters, calls } = await instance();
    let total = 0;
    for (let burst = 0; burst < 40; burst++) total += await admitted(counters, "busy", 50, 1_000_000);
    assert.equal(total, 2_000);
    assert.ok(calls.count < 100, `${calls.count} round trips for 2,000 hits`);
    const shared = Number(await admin.get(`${prefix}rate:busy`));
    assert.ok(shared >= 2_000, `Redis counts ${shared}`);
  });

  it("counts a slow client's hits one by one, exactly", async () => {
    const { counters, calls } = await instance();
    for (let hit = 1; hit <= 3; hit++) {
      const count = await counters.hit("slow", MINUTE, 1, 60);
      assert.equal(count.count, hit);
      await sleep(LEASE_SHRINK_PAUSE_MS);
    }
    assert.equal(calls.count, 3);
    assert.equal(Number(await admin.get(`${prefix}rate:slow`)), 3);
  });

  it("admits exactly the limit across instances hit at once", async () => {
    const [first, second, third] = await Promise.all([instance(), instance(), instance()]);
    let total = 0;
    for (let round = 0; round < 20; round++) {
      const bursts = [first, second, third].map(({ counters }) => admitted(counters, "shared", 25, 500));
      total += (await Promise.all(bursts)).reduce((sum, one) => sum + one, 0);
    }
    // Every instance went on until refused, so every reserved place was used.
    assert.equal(total, 500);
  });

  it("uses no reserved place past the limit when another instance spent the window meanwhile", async () => {
    const [first, second] = await Promise.all([instance(), instance()]);
    let total = 0;
    // The first instance learns an early count and a grown reservation size, the second spends the rest.
    for (let burst = 0; burst < 3; burst++) total += await admitted(first.counters, "stale", 8, 100);
    total += await admitted(second.counters, "stale", 100, 100);
    total += await admitted(first.counters, "stale", 40, 100);
    assert.equal(total, 100);
  });

  it("refuses a client known to be over its limit without asking Redis, until the window ends", async () => {
    const { counters, calls } = await instance();
    assert.equal(await admitted(counters, "spent", 30, 10, 300), 10);
    const before = calls.count;
    const refused = await counters.hit("spent", 300, 1, 10);
    assert.ok(refused.count > 10);
    assert.ok(refused.ttlMs > 0 && refused.ttlMs <= 300);
    assert.equal(calls.count, before);
    await sleep(350);
    assert.equal((await counters.hit("spent", 300, 1, 10)).count, 1);
  });

  it("spends a batch's amount from a reservation or in Redis, never past the limit", async () => {
    const [first, second] = await Promise.all([instance(), instance()]);
    const spends = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 ? first : second).counters.hit("batch", MINUTE, 7, 100),
      ),
    );
    const granted = spends.reduce((sum, spend) => sum + Math.max(0, Math.min(7, 100 - (spend.count - 7))), 0);
    assert.ok(granted <= 100, `${granted} granted`);
  });
});

/** Longer than a reservation may last before the next one shrinks. */
const LEASE_SHRINK_PAUSE_MS = 1_100;
