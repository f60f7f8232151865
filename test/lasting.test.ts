import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { Redis } from "ioredis";
import { type LastingStore, LastingWriteFailed } from "../src/stores/lasting.js";
import { createRedisLasting } from "../src/stores/lasting-redis.js";
import { createSqliteLasting } from "../src/stores/lasting-sqlite.js";
import { redisAnswers } from "./support/redis-server.js";

const REDIS_URL = process.env.REDIS_URL || "redis://127.0.0.1:6379";
const redisUp = await redisAnswers(REDIS_URL);

/** What every lasting store keeps: records by collection and id, ranges by prefix, counts, deletions. */
async function keepsRecords(store: LastingStore) {
  assert.deepEqual(await store.list("watches"), []);
  assert.equal(await store.count("watches"), 0);
  await store.put("watches", "alice~w_1", { n: 1 });
  await store.put("watches", "alice~w_2", { n: 2 });
  await store.put("watches", "bob~w_3", { n: 3 });
  await store.put("deliveries", "alice~w_1:001:msg_a", { d: "a" });
  await store.put("watches", "alice~w_2", { n: 22 });
  assert.deepEqual(await store.get("watches", "alice~w_2"), { n: 22 }, "a put replaces");
  assert.equal(await store.get("watches", "nobody"), undefined);
  assert.deepEqual(
    (await store.list("watches", "alice~")).map((entry) => entry.id),
    ["alice~w_1", "alice~w_2"],
    "an owner's range, in order",
  );
  assert.equal(await store.count("watches", "alice~"), 2);
  assert.equal(await store.count("watches"), 3);
  assert.equal(await store.count("deliveries"), 1, "collections apart");
  await store.delete("watches", "alice~w_1");
  assert.equal(await store.get("watches", "alice~w_1"), undefined);
  assert.equal(await store.count("watches"), 2);
}

describe("lasting data", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("in SQLite: kept, ranged, counted; no file until the first write; reopened as it was", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-lasting-"));
    dirs.push(dir);
    const path = join(dir, "data", "tiktok-dl.db");
    const store = createSqliteLasting(path);
    await keepsRecords(store);
    assert.ok(existsSync(path));
    await store.close();
    const again = createSqliteLasting(path);
    assert.deepEqual(await again.get("watches", "alice~w_2"), { n: 22 });
    await again.close();
    const untouched = createSqliteLasting(join(dir, "never", "x.db"));
    assert.deepEqual(await untouched.list("watches"), []);
    assert.ok(!existsSync(join(dir, "never")), "reading makes no file");
  });

  it("in SQLite: a write that cannot be made says so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tiktok-dl-lasting-"));
    dirs.push(dir);
    // A file where the database's folder should be: nothing can be written there.
    await writeFile(join(dir, "blocked"), "");
    const store = createSqliteLasting(join(dir, "blocked", "tiktok-dl.db"));
    await assert.rejects(store.put("watches", "a~w_1", {}), LastingWriteFailed);
  });

  it("in Redis: the same, hash-tagged per watch", {
    skip: redisUp ? false : `no Redis at ${REDIS_URL}`,
  }, async () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `tiktok-dl-test:${process.pid}:${randomBytes(4).toString("hex")}:`;
    try {
      const store = createRedisLasting({ redis, prefix });
      await keepsRecords(store);
      assert.equal(await redis.exists(`${prefix}lasting:deliveries:{alice~w_1}:alice~w_1:001:msg_a`), 1);
      const gone = new Redis("redis://127.0.0.1:1", {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
      });
      gone.on("error", () => {});
      const down = createRedisLasting({ redis: gone, prefix });
      await assert.rejects(down.put("watches", "a~w_1", {}), LastingWriteFailed);
      gone.disconnect();
    } finally {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
