import type { RedisClient } from "./redis-connect.js";
import type { CacheEntry, Store } from "./types.js";

/**
 * Redis keeps posts as JSON strings with a TTL and the stored-links index as a sorted set scored by
 * storage time (members are canonical links). Stale index members are pruned as they are met. No
 * command spans two keys, so the same code runs on one node, behind Sentinel, and on a Redis Cluster.
 */
export function createRedisStore(options: {
  redis: RedisClient;
  prefix: string;
  maxTtlMs: number;
  now: () => number;
}): Store {
  const { redis, prefix } = options;
  const postKey = (id: string) => `${prefix}post:${id}`;
  const shortKey = (code: string) => `${prefix}short:${code}`;
  const indexKey = `${prefix}links`;
  const claimKey = (key: string) => `${prefix}flight:${key}`;

  return {
    async getPost(id) {
      const raw = await redis.get(postKey(id));
      if (raw === null) return undefined;
      try {
        return JSON.parse(raw) as CacheEntry;
      } catch {
        return undefined;
      }
    },
    async setPost(id, entry, ttlMs) {
      // Two keys, two commands: on a Redis Cluster they live in different slots (no MULTI across them).
      // The index only points at posts; a member whose post is gone is pruned when it is met.
      await Promise.all([
        redis.set(postKey(id), JSON.stringify(entry), "PX", Math.max(1, Math.round(ttlMs))),
        entry.kind === "result" && !entry.unlisted
          ? redis.zadd(indexKey, entry.storedAt, `${id} ${entry.link}`)
          : undefined,
      ]);
    },
    async getShortLink(code) {
      return (await redis.get(shortKey(code))) ?? undefined;
    },
    async setShortLink(code, id, ttlMs) {
      await redis.set(shortKey(code), id, "PX", Math.max(1, Math.round(ttlMs)));
    },
    storedLinks: (limit) => {
      const oldest = options.now() - options.maxTtlMs;
      return liveLinks(redis, { indexKey, postKey }, limit, oldest);
    },
    async claim(key, ttlMs) {
      return (await redis.set(claimKey(key), "1", "PX", Math.max(1, Math.round(ttlMs)), "NX")) === "OK";
    },
    async renew(key, ttlMs) {
      await redis.pexpire(claimKey(key), Math.max(1, Math.round(ttlMs)));
    },
    async isClaimed(key) {
      return (await redis.exists(claimKey(key))) === 1;
    },
    async release(key) {
      await redis.del(claimKey(key));
    },
    async ping() {
      return (await redis.ping()) === "PONG";
    },
    async close() {
      // The app owns the connection and closes it; see app.ts.
    },
  };
}

/**
 * An index member is `<post key> <link>`: the key says whether the post is still cached, the link is what
 * the index shows. A member of an older form (the link alone) names no key, and is pruned as gone.
 */
const parseMember = (member: string) => {
  const space = member.indexOf(" ");
  return { key: space > 0 ? member.slice(0, space) : "", link: member.slice(space + 1) };
};

/**
 * The newest `limit` links of the index whose post is still cached (one per post), newest first; members
 * older than `oldest` or whose post has gone are pruned on the way.
 */
async function liveLinks(
  redis: RedisClient,
  keys: { indexKey: string; postKey: (id: string) => string },
  limit: number,
  oldest: number,
): Promise<string[]> {
  const { indexKey, postKey } = keys;
  await redis.zremrangebyscore(indexKey, "-inf", oldest);
  const found: string[] = [];
  const seen = new Set<string>();
  const batch = Math.max(limit, 50);
  for (let offset = 0; found.length < limit; offset += batch) {
    const members = await redis.zrevrange(indexKey, offset, offset + batch - 1);
    if (members.length === 0) break;
    const parsed = members.map(parseMember);
    // One EXISTS per post (auto-pipelined per node): on a Cluster the posts are in many slots.
    const exists = await Promise.all(parsed.map(({ key }) => (key ? redis.exists(postKey(key)) : 0)));
    const stale = members.filter((_, i) => exists[i] === 0);
    if (stale.length > 0) {
      await redis.zrem(indexKey, ...stale);
      offset -= stale.length;
    }
    for (const [i, { key, link }] of parsed.entries()) {
      if (exists[i] === 1 && !seen.has(key) && found.length < limit) {
        seen.add(key);
        found.push(link);
      }
    }
  }
  return found;
}
