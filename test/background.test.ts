import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { pino } from "pino";
import { createScheduler } from "../src/service/scheduler.js";
import { createMemoryLeases, createRedisLeases, type Leases } from "../src/stores/leases.js";
import { createRedisGuard } from "../src/stores/redis-guard.js";
import { delay } from "./helpers.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const redisUp = await redisAnswers(REDIS_URL);
const silent = pino({ level: "silent" });

/** The rules every kind of lease keeps. */
async function leaseRules(leases: Leases) {
  const name = `rules-${randomUUID()}`;
  const first = await leases.acquire(name, 300);
  assert.ok(first, "a free lease is given");
  assert.equal(await leases.acquire(name, 300), undefined, "and to one holder at a time");
  assert.equal(await first.renew(300), true);
  await first.release();
  const second = await leases.acquire(name, 100);
  assert.ok(second, "a released lease is free again");
  await delay(150);
  assert.equal(await second.renew(100), false, "a lease that ran out is no longer its holder's");
  const third = await leases.acquire(name, 300);
  assert.ok(third, "one that ran out is free");
  await second.release();
  assert.equal(await leases.acquire(name, 300), undefined, "a former holder's release frees nothing");
  await third.release();
}

describe("leases", () => {
  it("in memory", () => leaseRules(createMemoryLeases()));

  describe("in Redis", { skip: redisUp ? false : `no Redis at ${REDIS_URL}` }, () => {
    let redis: Redis;
    const prefix = `test-leases-${randomUUID()}:`;
    before(() => {
      redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    });
    after(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    });

    it("keep the same rules", async () => {
      const guard = createRedisGuard({ redis, now: Date.now, log: silent });
      await leaseRules(createRedisLeases({ redis, guard, prefix }));
    });

    it("let one of two instances' schedulers run a job per interval", async () => {
      const guard = createRedisGuard({ redis, now: Date.now, log: silent });
      const runs: { instance: string; at: number }[] = [];
      const schedulers = ["a", "b"].map((instance) => {
        const scheduler = createScheduler({
          leases: createRedisLeases({ redis, guard, prefix }),
          log: silent,
        });
        scheduler.add({
          name: "count",
          everyMs: 200,
          run: async () => {
            runs.push({ instance, at: performance.now() });
          },
        });
        return scheduler;
      });
      for (const scheduler of schedulers) scheduler.start();
      await delay(1_050);
      await Promise.all(schedulers.map((scheduler) => scheduler.stop()));
      // One run an interval, whichever instance took it: never two within one interval (timers may run
      // late on a busy machine, never early).
      assert.ok(runs.length >= 2, `${runs.length} runs`);
      assert.ok(runs.length <= 6, `${runs.length} runs in about five intervals`);
      const gaps = runs.slice(1).map((run, index) => run.at - (runs[index] as { at: number }).at);
      assert.ok(Math.min(...gaps) >= 150, `runs ${gaps.map((gap) => Math.round(gap)).join(", ")} ms apart`);
    });
  });
});

describe("the scheduler", () => {
  it("runs a job each interval, goes on after one that throws, and stops it when closed", async () => {
    const logged: string[] = [];
    const log = pino({ level: "error" }, { write: (line: string) => void logged.push(line) });
    const scheduler = createScheduler({ leases: createMemoryLeases(), log });
    let runs = 0;
    let aborted = false;
    scheduler.add({
      name: "flaky",
      everyMs: 100,
      run: async (signal) => {
        runs++;
        if (runs === 2) throw new Error("the second run fails");
        if (runs === 4)
          await new Promise<void>((resolve) =>
            signal.addEventListener(
              "abort",
              () => {
                aborted = true;
                resolve();
              },
              { once: true },
            ),
          );
      },
    });
    scheduler.start();
    for (let waited = 0; runs < 4 && waited < 5_000; waited += 50) await delay(50);
    await scheduler.stop();
    assert.ok(runs >= 4, `${runs} runs`);
    assert.ok(aborted, "the run under way was told the service closes");
    assert.equal(logged.filter((line) => line.includes("background job failed")).length, 1);
    const after = runs;
    await delay(250);
    assert.equal(runs, after, "nothing runs after stop()");
  });

  it("never starts a job again while its run goes on", async () => {
    const scheduler = createScheduler({ leases: createMemoryLeases(), log: silent });
    let running = 0;
    let most = 0;
    scheduler.add({
      name: "slow",
      everyMs: 50,
      run: async () => {
        running++;
        most = Math.max(most, running);
        await delay(220);
        running--;
      },
    });
    scheduler.start();
    await delay(500);
    await scheduler.stop();
    assert.equal(most, 1);
  });
});
