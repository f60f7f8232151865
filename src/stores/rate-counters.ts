import { LRUCache } from "lru-cache";
import type { RedisClient } from "./redis-connect.js";
import type { RedisGuard } from "./redis-guard.js";

export interface RateCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/** Fixed-window counters for rate limits: in Redis when there is one, in memory otherwise. */
export interface RateCounters {
  /** Counts `amount` hits (default one) in the key's current window. */
  hit(key: string, windowMs: number, amount?: number): Promise<RateCount>;
}

type CountHit = (key: string, amount: number, windowMs: number) => Promise<[number, number] | null>;

const COUNT_HIT_COMMAND = "tiktokDlCountHit";
/** Counts in the key's window (started by the first hit, PX the window) and says what is left of it. */
const COUNT_HIT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}`;

/**
 * Counters are shared through Redis (`<prefix>rate:<key>`, keys named `<route>:<client>` by the caller).
 * While Redis is down each instance counts in memory: a limit per instance for the outage, never no limit.
 */
export function createRateCounters(options: {
  now: () => number;
  prefix: string;
  redis?: RedisClient;
  guard?: RedisGuard;
  /** Clients remembered in memory at most. */
  maxClients?: number;
}): RateCounters {
  const local = new LRUCache<string, { count: number; endsAt: number }>({
    max: options.maxClients ?? 50_000,
  });

  function hitLocally(key: string, windowMs: number, amount = 1): RateCount {
    const now = options.now();
    const window = local.get(key);
    if (!window || window.endsAt <= now) {
      local.set(key, { count: amount, endsAt: now + windowMs });
      return { count: amount, ttlMs: windowMs };
    }
    window.count += amount;
    return { count: window.count, ttlMs: window.endsAt - now };
  }

  const { redis, guard } = options;
  if (!redis || !guard) return { hit: async (key, windowMs, amount) => hitLocally(key, windowMs, amount) };
  // One command a hit (a transaction of four cost each cache hit four times the work in Redis and in
  // ioredis); ioredis sends the script's SHA, and the script again after Redis lost it (a restart).
  redis.defineCommand(COUNT_HIT_COMMAND, { numberOfKeys: 1, lua: COUNT_HIT_SCRIPT });
  const countHit = (redis as unknown as Record<string, CountHit>)[COUNT_HIT_COMMAND] as CountHit;

  return {
    async hit(key, windowMs, amount = 1) {
      const redisKey = `${options.prefix}rate:${key}`;
      try {
        const replies = await guard.run(() => countHit.call(redis, redisKey, amount, windowMs));
        const count = Number(replies?.[0]);
        const ttlMs = Number(replies?.[1]);
        if (!Number.isFinite(count) || !Number.isFinite(ttlMs)) return hitLocally(key, windowMs, amount);
        return { count, ttlMs: ttlMs > 0 ? ttlMs : windowMs };
      } catch {
        return hitLocally(key, windowMs, amount);
      }
    },
  };
}
