import { type LastingStore, LastingWriteFailed } from "./lasting.js";
import type { RedisClient } from "./redis-connect.js";

/**
 * Lasting data in Redis, for instances that share it (Redis must persist: `appendonly yes`). A record is
 * a key of its own, hash-tagged by the part of its id before the first `:` (a watch and its deliveries
 * share a slot on a Cluster); each collection keeps an index of its ids. Unlike the cache, a call that
 * fails is not swallowed: a write throws `LastingWriteFailed`, a read throws.
 */
export function createRedisLasting(options: { redis: RedisClient; prefix: string }): LastingStore {
  const { redis, prefix } = options;
  const tagOf = (id: string) => id.split(":")[0];
  const key = (collection: string, id: string) => `${prefix}lasting:${collection}:{${tagOf(id)}}:${id}`;
  const index = (collection: string) => `${prefix}lasting:${collection}:ids`;
  const written = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      throw new LastingWriteFailed(`could not ${what} in Redis`, { cause: error });
    }
  };

  return {
    put: (collection, id, record) =>
      written(`write ${collection} ${id}`, async () => {
        // The record first: an index entry never points at nothing that was meant to be written.
        await redis.set(key(collection, id), JSON.stringify(record));
        await redis.zadd(index(collection), 0, id);
      }),
    async get(collection, id) {
      const raw = await redis.get(key(collection, id));
      return raw === null ? undefined : JSON.parse(raw);
    },
    delete: (collection, id) =>
      written(`delete ${collection} ${id}`, async () => {
        await redis.del(key(collection, id));
        await redis.zrem(index(collection), id);
      }),
    async list(collection, prefix = "") {
      // Ids share one score: the index is ordered by id, and a prefix is a lexicographic range.
      const ids = prefix
        ? await redis.zrangebylex(index(collection), `[${prefix}`, `[${prefix}\u{10FFFF}`)
        : await redis.zrange(index(collection), 0, -1);
      if (ids.length === 0) return [];
      const raws = await Promise.all(ids.map((id) => redis.get(key(collection, id))));
      return ids.flatMap((id, i) => {
        const raw = raws[i];
        return raw === null || raw === undefined ? [] : [{ id, record: JSON.parse(raw) as unknown }];
      });
    },
    count: (collection, prefix = "") =>
      prefix
        ? redis.zlexcount(index(collection), `[${prefix}`, `[${prefix}\u{10FFFF}`)
        : redis.zcard(index(collection)),
    async close() {
      // The app owns the connection.
    },
  };
}
