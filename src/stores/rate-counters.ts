import type { Redis } from "ioredis";
import { LRUCache } from "lru-cache";
import type { RedisGuard } from "./redis-guard.js";

export interface RateCount {
  /** Hits in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/** Fixed-window counters for rate limits: in Redis when there is one, in memory otherwise. */
export interface RateCounters {
  hit(key: string, windowMs: number): Promise<RateCount>;
}

/**
 * Counters are shared through Redis (`<prefix>rate:<key>`, keys named `<route>:<client>` by the caller).
 * While Redis is down each instance counts in memory: a limit per instance for the outage, never no limit.
 */
export function createRateCounters(options: {
  now: () => number;
  prefix: string;
  redis?: Redis;
  guard?: RedisGuard;
  /** Clients remembered in memory at most. */
  maxClients?: number;
}): RateCounters {
  const local = new LRUCache<string, { count: number; endsAt: number }>({
    max: options.maxClients ?? 50_000,
  });

  function hitLocally(key: string, windowMs: number): RateCount {
    const now = options.now();
    const window = local.get(key);
    if (!window || window.endsAt <= now) {
      local.set(key, { count: 1, endsAt: now + windowMs });
      return { count: 1, ttlMs: windowMs };
    }
    window.count++;
    return { count: window.count, ttlMs: window.endsAt - now };
  }

  const { redis, guard } = options;
  if (!redis || !guard) return { hit: async (key, windowMs) => hitLocally(key, windowMs) };

  return {
    async hit(key, windowMs) {
      const redisKey = `${options.prefix}rate:${key}`;
      try {
        // SET NX starts the window, INCR counts, PTTL says what is left: one round trip, plain commands.
        const replies = await guard.run(() =>
          redis.multi().set(redisKey, "0", "PX", windowMs, "NX").incr(redisKey).pttl(redisKey).exec(),
        );
        const count = Number(replies?.[1]?.[1]);
        const ttlMs = Number(replies?.[2]?.[1]);
        if (!Number.isFinite(count) || !Number.isFinite(ttlMs)) return hitLocally(key, windowMs);
        return { count, ttlMs: ttlMs > 0 ? ttlMs : windowMs };
      } catch {
        return hitLocally(key, windowMs);
      }
    },
  };
}
