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

  return {
    async hit(key, windowMs, amount = 1) {
      const redisKey = `${options.prefix}rate:${key}`;
      try {
        // SET NX starts the window, INCR counts, PTTL says what is left: one round trip, plain commands.
        const replies = await guard.run(() =>
          redis
            .multi()
            .set(redisKey, "0", "PX", windowMs, "NX")
            .incrby(redisKey, amount)
            .pttl(redisKey)
            .exec(),
        );
        const count = Number(replies?.[1]?.[1]);
        const ttlMs = Number(replies?.[2]?.[1]);
        if (!Number.isFinite(count) || !Number.isFinite(ttlMs)) return hitLocally(key, windowMs, amount);
        return { count, ttlMs: ttlMs > 0 ? ttlMs : windowMs };
      } catch {
        return hitLocally(key, windowMs, amount);
      }
    },
  };
}
